import { describe, expect, it } from 'vitest';
import { createCollector, DEFAULT_LIMITS } from './collector.js';
import { createEngine } from './engine.js';
import { createSecretHasher } from './finding.js';
import { RULES } from './rules/rules.js';
import { renderSarif } from './report/sarif.js';
import { checksummedToken, fakeCustosToken, seeded } from './rules/fake.js';

const rnd = seeded(11);
const inSource = checksummedToken('ghp_', rnd);
const inOutput = fakeCustosToken('op', rnd);
const inSecret = checksummedToken('npm_', rnd);

function scan(path: string, text: string) {
  const c = createCollector({ engine: createEngine({ rules: RULES }), limits: DEFAULT_LIMITS, hasher: createSecretHasher(Buffer.alloc(32, 7)) });
  c.scanContent(Buffer.from(text), { path });
  return c.result('dir', '.', 0).findings;
}

describe('content-aware scanning', () => {
  it('notebooks: cell sources and text outputs are scanned, located at the line and column of the .ipynb file; images are not', () => {
    const png = Buffer.from(`ghp_${'x'.repeat(200)}`).toString('base64');
    // Pretty-printed as Jupyter writes it, with an escaped quote before the secret on its line.
    const nb = JSON.stringify({
      cells: [
        { cell_type: 'markdown', source: ['# Demo\n'] },
        { cell_type: 'code', source: ['import os\n', `token = "${inSource}"\n`], outputs: [] },
        { cell_type: 'code', source: ['print(cfg)\n'], outputs: [
          { output_type: 'stream', name: 'stdout', text: ['loaded\n', `CUSTOS_TOKEN=${inOutput}\n`] },
          { output_type: 'display_data', data: { 'image/png': png, 'text/plain': ['<Figure>'] } },
        ] },
      ],
    }, null, 1);
    const at = (secret: string) => {
      const i = nb.indexOf(secret);
      const before = nb.slice(0, i).split('\n');
      return { line: before.length, column: before.at(-1)!.length + 1 };
    };
    const f = scan('analysis.ipynb', nb);
    expect(f.map((x) => [x.ruleId, x.location])).toEqual([
      ['github-token', { path: 'analysis.ipynb', within: 'cell 2', cell: 2, ...at(inSource) }],
      ['custos-operator-token', { path: 'analysis.ipynb', within: 'cell 3 output 1', cell: 3, output: 1, ...at(inOutput) }],
    ]);
    expect(at(inSource).line).toBeGreaterThan(2);
    const sarif = JSON.parse(renderSarif({ source: 'dir', target: '.', findings: f, failing: f.length, skipped: [], incomplete: false, incompleteReasons: [], stats: { files: 1, bytes: 1, durationMs: 0 } }, RULES));
    expect(sarif.runs[0].results.map((r: { properties: object; locations: Array<{ physicalLocation: { region: object } }> }) => [r.properties, r.locations[0]!.physicalLocation.region])).toEqual([
      [expect.objectContaining({ cell: 2 }), { startLine: at(inSource).line, startColumn: at(inSource).column }],
      [expect.objectContaining({ cell: 3, output: 1 }), { startLine: at(inOutput).line, startColumn: at(inOutput).column }],
    ]);
    expect(sarif.runs[0].results[0].partialFingerprints).toEqual({ 'custosSecret/v2': f[0]!.fingerprint });
  });
  it('notebooks: escapes before the secret on its line keep the column right; a one-line notebook too', () => {
    const nb = JSON.stringify({ cells: [{ cell_type: 'code', source: `x = "a\\tb\\"c\u00e9"\nprint("\\u2603"); t = "${inSource}"\n`, outputs: [] }] });
    const [g] = scan('one.ipynb', nb);
    expect(g!.location).toMatchObject({ line: 1, column: nb.indexOf(inSource) + 1, cell: 1 });
  });
  it('an invalid notebook is scanned as plain text', () => {
    expect(scan('broken.ipynb', `{ "cells": [ token = "${inSource}"`).map((x) => x.ruleId)).toEqual(['github-token']);
  });
  it('Kubernetes Secret data is base64-decoded, with the line of the value', () => {
    const yaml = [
      'apiVersion: v1',
      'kind: ConfigMap',
      'data:',
      `  other: ${Buffer.from('nothing here').toString('base64')}`,
      '---',
      'apiVersion: v1',
      'kind: Secret',
      'metadata:',
      '  name: registry',
      'data:',
      `  NPM_TOKEN: ${Buffer.from(inSecret).toString('base64')}`,
    ].join('\n');
    const f = scan('k8s/secret.yaml', yaml);
    expect(f.map((x) => [x.ruleId, x.location.line, x.location.within])).toEqual([['npm-token', 11, 'Secret data NPM_TOKEN (base64-decoded)']]);
  });
  it('.env, tfvars, compose, GitHub Actions and GitLab CI assignments are found', () => {
    const generic = RULES.find((r) => r.id === 'generic-secret')!.examples.truePositives[0]!.split('=')[1]!.trim();
    const cases: Array<[string, string]> = [
      ['.env', `DB_PASSWORD=${generic.replace(/"/g, '')}\n`],
      ['values.yaml', `auth:\n  adminPassword: ${generic.replace(/"/g, '')}\n`],
      ['prod.tfvars', `client_secret = ${generic}\n`],
      ['docker-compose.yml', `services:\n  api:\n    environment:\n      - API_TOKEN=${inSource}\n`],
      ['.github/workflows/ci.yml', `jobs:\n  b:\n    env:\n      SERVICE_TOKEN: ${generic}\n`],
      ['.gitlab-ci.yml', `variables:\n  DEPLOY_TOKEN: ${generic}\n`],
    ];
    for (const [path, text] of cases) expect(scan(path, text).length, path).toBeGreaterThan(0);
  });
});
