import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/platform/http/errors.js';
import { startHarness, type Harness } from '../support/harness.js';

// The OpenAPI document lists each operation's error codes, grouped by status, from the one catalogue.

describe('OpenAPI error codes', () => {
  let h: Harness;
  let doc: { paths: Record<string, Record<string, { responses: Record<string, any>; 'x-error-codes'?: string[]; security?: unknown[] }>> };
  beforeAll(async () => {
    h = await startHarness('sqlite');
    doc = (await h.call('GET', '/openapi.json', undefined, null)).body;
  });
  afterAll(async () => { await h?.close(); });

  it('every operation lists its codes, each under its own status with an enum of exactly those codes', () => {
    let operations = 0;
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        operations++;
        const codes = op['x-error-codes'];
        expect(codes, `${method} ${path}`).toBeDefined();
        for (const code of codes!) {
          const status = ERROR_CODES[code as keyof typeof ERROR_CODES].status;
          const response = op.responses[String(status)];
          expect(response, `${method} ${path} ${code}`).toBeDefined();
          const schema = response.content?.['application/problem+json']?.schema;
          if (schema?.allOf) expect(schema.allOf[1].properties.code.enum, `${method} ${path}`).toContain(code);
        }
      }
    }
    expect(operations).toBeGreaterThan(30);
  });

  it('route-specific and shape-derived codes appear where they apply, and only there', () => {
    const mint = doc.paths['/v1/operator-tokens']!.post!;
    expect(mint['x-error-codes']).toEqual(expect.arrayContaining(['principal_not_human', 'principal_not_active', 'unauthenticated', 'forbidden', 'validation_failed', 'malformed_json', 'audit_unavailable']));
    expect(mint.responses['422'].content['application/problem+json'].schema.allOf[1].properties.code.enum).toEqual(expect.arrayContaining(['principal_not_human', 'principal_not_active', 'principal_not_found']));
    const list = doc.paths['/v1/principals']!.get!;
    expect(list['x-error-codes']).toContain('invalid_cursor');
    expect(list['x-error-codes']).not.toContain('malformed_json');
    expect(list['x-error-codes']).not.toContain('audit_unavailable');
    const health = doc.paths['/healthz']!.get!;
    expect(health['x-error-codes']).not.toContain('unauthenticated');
  });
});
