import fs from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { CliError, createClient, type ApiClient } from './client.js';
import type { CliIo } from './output.js';

// Shared plumbing for the noun files under cli/commands/.

export interface GlobalOptions {
  server?: string;
  token?: string;
  dataDir?: string;
  json?: boolean;
}

export type Action = (client: ApiClient, globals: GlobalOptions, ...args: any[]) => Promise<void>;

/** Wraps an action so it gets a client built from the global options. */
export function withClient(io: CliIo, action: Action) {
  return async (...args: unknown[]) => {
    const cmd = args[args.length - 1] as Command;
    const globals = cmd.optsWithGlobals() as GlobalOptions;
    const client = createClient(globals, io.env);
    await action(client, globals, ...args.slice(0, -1));
  };
}

/** The text `--help` shows after a command's options: one example or several. */
export const examples = (...lines: string[]) => `\nExample${lines.length > 1 ? 's' : ''}:\n${lines.map((l) => `  ${l}`).join('\n')}\n`;

export const collect = (value: string, previous: string[] = []) => [...previous, value];

/** A list typed with commas or spaces (`--scope a,b` or `--scope 'a b'`). */
export const splitList = (value: string): string[] => value.split(/[\s,]+/).filter(Boolean);

export function parseLabels(pairs: string[] | undefined): Record<string, string> | undefined {
  if (!pairs) return undefined;
  const labels: Record<string, string> = {};
  for (const pair of pairs) {
    const i = pair.indexOf('=');
    if (i <= 0) throw new Error(`label '${pair}' must be key=value`);
    labels[pair.slice(0, i)] = pair.slice(i + 1);
  }
  return labels;
}

/** Commander argument parser for whole numbers in a range: a usage error (exit 2) before any request. */
export function integerIn(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}`);
    return n;
  };
}

export function pageOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--limit <n>', 'page size (1-500)').argParser(integerIn('--limit', 1, 500)))
    .option('--cursor <cursor>', 'continue from a previous page')
    .option('--all', 'follow cursors and print every page');
}

/** Drops undefined fields so PATCH bodies carry only what the user set. */
export function defined<T extends Record<string, unknown>>(obj: T): Partial<T> {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export async function fetchPages<T>(client: ApiClient, basePath: string, params: URLSearchParams, all: boolean): Promise<Page<T>> {
  const items: T[] = [];
  let cursor = params.get('cursor') ?? undefined;
  for (;;) {
    if (cursor) params.set('cursor', cursor);
    const page = await client.request<Page<T>>('GET', `${basePath}?${params.toString()}`);
    items.push(...page.items);
    if (!all || !page.next_cursor) return { items, next_cursor: page.next_cursor };
    cursor = page.next_cursor;
  }
}

/** Writes to --output FILE (created 0600: exports and checkpoints are nobody else's business) or stdout. */
export function writeOutput(io: CliIo, text: string, file: string | undefined, what = 'output'): void {
  if (!file) {
    io.stdout.write(text);
    return;
  }
  writePrivateFile(file, text);
  io.stderr.write(`wrote ${what} to ${file} (${Buffer.byteLength(text)} bytes, mode 0600)\n`);
}

/** Creates or replaces a file readable only by its owner. */
export function writePrivateFile(file: string, text: string | Uint8Array): void {
  fs.writeFileSync(file, text, { mode: 0o600 });
  fs.chmodSync(file, 0o600);
}

/** A --jwks file's JSON, or a one-line usage error (exit 2); `describes` says what the file should hold. */
export function readJwksFile(file: string, describes = 'a JWKS'): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read --jwks file '${file}': ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 2);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new CliError(`--jwks file '${file}' is not JSON (${describes}: {"keys": [...]})`, 2);
  }
}
