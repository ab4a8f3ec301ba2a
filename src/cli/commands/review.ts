// PLACEHOLDER (replaced by the part's author): `custos review`.
import type { Command } from 'commander';
import type { CliIo } from '../output.js';

export function registerReviewCommands(_program: Command, _io: CliIo): void {}
