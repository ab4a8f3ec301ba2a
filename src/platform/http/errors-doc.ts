import { ERROR_CODES, PROBLEM_TYPE_BASE } from './errors.js';

// docs/errors.md is rendered from the catalogue (npx tsx scripts/render-errors-doc.ts > docs/errors.md);
// a test fails when the two differ, so the document can never fall behind the code.

export function renderErrorsMarkdown(): string {
  const rows = Object.entries(ERROR_CODES)
    .sort(([a, x], [b, y]) => x.status - y.status || a.localeCompare(b))
    .map(([code, spec]) => `| \`${code}\` | ${spec.status} | ${spec.title} | ${spec.meaning.replace(/\|/g, '\\|')} |`);
  return [
    '# Error codes',
    '',
    'Every error the API returns is RFC 9457 problem+json (`Content-Type: application/problem+json`):',
    '',
    '```json',
    `{ "type": "${PROBLEM_TYPE_BASE}name_taken", "title": "Name taken", "status": 409, "code": "name_taken",`,
    '  "detail": "a principal named \'alice\' already exists", "instance": "/v1/principals" }',
    '```',
    '',
    'Scripts should branch on `code`, which is stable; `detail` is for people and may change. Some codes add',
    'fields (`errors` for validation problems, `allowed` for lifecycle moves). The OpenAPI document',
    '(`/openapi.json`) lists under each operation the codes it can return (`x-error-codes`), grouped by status.',
    'The CLI prints `detail (code)` on one line and exits 1 (3 for `unauthenticated`).',
    '',
    'This file is generated from `src/platform/http/errors.ts`: `npx tsx scripts/render-errors-doc.ts > docs/errors.md`.',
    '',
    '| code | status | title | meaning |',
    '|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}
