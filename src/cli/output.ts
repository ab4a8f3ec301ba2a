import Table from 'cli-table3';

export interface CliIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdoutIsTTY: boolean;
  env: NodeJS.ProcessEnv;
}

export function printJson(io: CliIo, value: unknown): void {
  io.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export function printTable(io: CliIo, head: string[], rows: Array<Array<string | number | boolean | null | undefined>>): void {
  if (rows.length === 0) {
    io.stdout.write('(none)\n');
    return;
  }
  const table = new Table({ head, style: { head: [], border: [] }, chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' } });
  for (const r of rows) table.push(r.map((c) => (c === null || c === undefined ? '' : String(c))));
  io.stdout.write(table.toString() + '\n');
}

/** Key/value view of one object, for `show` commands. */
export function printRecord(io: CliIo, record: Record<string, unknown>): void {
  const width = Math.max(...Object.keys(record).map((k) => k.length));
  for (const [k, v] of Object.entries(record)) {
    const text = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    io.stdout.write(`${k.padEnd(width)}  ${text}\n`);
  }
}
