// Placeholder while `custos grant` is being built (issue 11); replaced by the real commands.
import type { Command } from 'commander';
import type { CliIo } from '../output.js';

export function registerGrantCommands(_program: Command, _io: CliIo): void {}
