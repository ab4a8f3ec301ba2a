import { describe, expect, it } from 'vitest';
import { printRecord, printTable, sanitizeCell, type CliIo } from './output.js';

function capture(): { io: CliIo; out: () => string } {
  let text = '';
  const sink = { write: (s: string) => { text += s; return true; } } as unknown as NodeJS.WritableStream;
  return { io: { stdout: sink, stderr: sink, stdoutIsTTY: false, env: {} }, out: () => text };
}

describe('CLI output neutralises terminal control', () => {
  it('shows ESC, C0/C1 controls and bidi overrides as escapes, and leaves ordinary text alone', () => {
    expect(sanitizeCell('\u001b[31mred')).toBe('\\u001b[31mred');
    expect(sanitizeCell('evil\u202etxt.exe')).toBe('evil\\u202etxt.exe');
    expect(sanitizeCell('a\u0000b\u009bc\u2066d')).toBe('a\\u0000b\\u009bc\\u2066d');
    expect(sanitizeCell('Zoë 山田 — ok')).toBe('Zoë 山田 — ok');
  });

  it('tables and records print no raw control character, whatever the server sent', () => {
    const t = capture();
    printTable(t.io, ['NAME', 'DISPLAY'], [['bot\u001b]0;pwned\u0007', 'x\u202ey']]);
    const r = capture();
    printRecord(r.io, { name: 'a\u001b[2Jb', labels: { k: 'v\u202e' } });
    for (const text of [t.out(), r.out()]) {
      // eslint-disable-next-line no-control-regex
      expect(text).not.toMatch(/[\u001b\u0007\u202e]/);
    }
    expect(t.out()).toContain('bot\\u001b]0;pwned\\u0007');
  });
});
