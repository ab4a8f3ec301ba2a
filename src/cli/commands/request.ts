// PLACEHOLDER (replaced by the part's author): `custos request`.
import type { Command } from 'commander';
import type { CliIo } from '../output.js';

export function registerRequestCommands(_program: Command, _io: CliIo): void {}
