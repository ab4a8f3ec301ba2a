// Placeholder while `custos device` is being built (issue 11); replaced by the real commands.
import type { Command } from 'commander';
import type { CliIo } from '../output.js';

export function registerDeviceCommands(_program: Command, _io: CliIo): void {}
