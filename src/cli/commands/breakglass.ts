// PLACEHOLDER (replaced by the part's author): `custos breakglass`.
import type { Command } from 'commander';
import type { CliIo } from '../output.js';

export function registerBreakGlassCommands(_program: Command, _io: CliIo): void {}
