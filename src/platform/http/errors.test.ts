import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AppError, ERROR_CODES, type ErrorCode } from './errors.js';
import { renderErrorsMarkdown } from './errors-doc.js';

describe('error catalogue', () => {
  it('docs/errors.md is exactly what the catalogue renders', () => {
    const doc = fs.readFileSync(path.resolve(import.meta.dirname, '../../../docs/errors.md'), 'utf8');
    expect(doc, 'run: npx tsx scripts/render-errors-doc.ts > docs/errors.md').toBe(renderErrorsMarkdown());
  });

  it('a code fixes its status and title; problems carry the code in type and body', () => {
    const e = new AppError('name_taken', "a principal named 'x' already exists", { field: 'name' });
    expect([e.status, e.title]).toEqual([409, 'Name taken']);
    expect(e.toProblem('/v1/principals')).toEqual({
      type: 'https://custos.dev/problems/name_taken', title: 'Name taken', status: 409, code: 'name_taken',
      detail: "a principal named 'x' already exists", instance: '/v1/principals', field: 'name',
    });
  });

  it('every code is snake_case with a 4xx/5xx status and a meaning', () => {
    for (const [code, spec] of Object.entries(ERROR_CODES) as [ErrorCode, (typeof ERROR_CODES)[ErrorCode]][]) {
      expect(code).toMatch(/^[a-z]+(_[a-z]+)*$/);
      expect(spec.status >= 400 && spec.status < 600, code).toBe(true);
      expect(spec.meaning.length, code).toBeGreaterThan(10);
    }
  });

  it('every code thrown in the source is in the catalogue (the union type makes this a compile error too)', () => {
    const root = path.resolve(import.meta.dirname, '../..');
    const thrown = new Set<string>();
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(p);
        else if (p.endsWith('.ts') && !p.endsWith('.test.ts')) {
          for (const m of fs.readFileSync(p, 'utf8').matchAll(/new AppError\('([a-z_]+)'/g)) thrown.add(m[1]!);
        }
      }
    };
    walk(root);
    expect(thrown.size).toBeGreaterThan(20);
    for (const code of thrown) expect(Object.keys(ERROR_CODES), code).toContain(code);
  });
});
