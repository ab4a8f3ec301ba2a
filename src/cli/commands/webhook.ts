// PLACEHOLDER (replaced by the part's author): `custos webhook`.
import type { Command } from 'commander';
import type { CliIo } from '../output.js';

export function registerWebhookCommands(_program: Command, _io: CliIo): void {}
