import Table from 'cli-table3';

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdoutIsTTY: boolean;
  /** Whether stderr is a terminal (secrets shown once are printed only there). */
  stderrIsTTY?: boolean;
  env: NodeJS.ProcessEnv;
}

// Names in tables and records come from the server, which got them from users: control characters, ESC
// sequences and bidirectional overrides are shown as \u escapes so they cannot repaint the terminal or
// reorder what an operator reads.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001F\u007F-\u009F\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/g;

export function sanitizeCell(text: string): string {
  return text.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function printJson(io: CliIo, value: unknown): void {
  io.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export function printTable(io: CliIo, head: string[], rows: Array<Array<string | number | boolean | null | undefined>>): void {
  if (rows.length === 0) {
    io.stdout.write('(none)\n');
    return;
  }
  const table = new Table({ head: head.map(sanitizeCell), style: { head: [], border: [] }, chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' } });
  for (const r of rows) table.push(r.map((c) => (c === null || c === undefined ? '' : sanitizeCell(String(c)))));
  io.stdout.write(table.toString() + '\n');
}

/** Key/value view of one object, for `show` commands. */
export function printRecord(io: CliIo, record: Record<string, unknown>): void {
  const width = Math.max(...Object.keys(record).map((k) => k.length));
  for (const [k, v] of Object.entries(record)) {
    const text = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    io.stdout.write(`${sanitizeCell(k).padEnd(width)}  ${sanitizeCell(text)}\n`);
  }
}
