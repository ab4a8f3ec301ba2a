// Placeholder while `custos policy` is being built (issue 11); replaced by the real commands.
import type { Command } from 'commander';
import type { CliIo } from '../output.js';

export function registerPolicyCommands(_program: Command, _io: CliIo): void {}
