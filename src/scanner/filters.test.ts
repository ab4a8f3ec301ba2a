import { describe, expect, it } from 'vitest';
import { createCollector, DEFAULT_LIMITS } from './collector.js';
import { createEngine } from './engine.js';
import { createSecretHasher } from './finding.js';
import { createFilters, FILTERS, type FilterOptions } from './filters.js';
import { RULES } from './rules/rules.js';
import { checksummedToken, seeded } from './rules/fake.js';

const rnd = seeded(2024);
const ghp = checksummedToken('ghp_', rnd);
const npm = checksummedToken('npm_', rnd);

function scan(text: string, opts: FilterOptions = {}, path = 'a.txt') {
  const filters = createFilters(opts);
  const c = createCollector({ engine: createEngine({ rules: RULES }), limits: DEFAULT_LIMITS, filters, hasher: createSecretHasher(Buffer.alloc(32, 7)) });
  c.scanContent(Buffer.from(text), { path });
  return { result: c.result('dir', '.', 0), filters };
}

describe('post-match filters', () => {
  it('run as one named sequence', () => {
    expect(FILTERS.map((f) => f.name)).toEqual(['inline-allow', 'allow-list', 'dedupe', 'baseline', 'fail-on']);
  });
  it('inline-allow: custos:allow on the line, custos:allow-next-line on the line before', () => {
    expect(scan(`${ghp} # custos:allow\n`).result.findings).toHaveLength(0);
    expect(scan(`# custos:allow-next-line\n${ghp}\n`).result.findings).toHaveLength(0);
    expect(scan(`# custos:allow-next-line\n\n${ghp}\n`).result.findings).toHaveLength(1);
  });
  it('allow-list: a config regex matching the secret drops it, others stay', () => {
    const { result } = scan(`a=${ghp}\nb=${npm}\n`, { allow: [`^${ghp.slice(0, 8)}`] });
    expect(result.findings.map((f) => f.ruleId)).toEqual(['npm-token']);
  });
  it('dedupe: once per place, every place kept', () => {
    const { result } = scan(`${ghp} ${ghp}\n${ghp}\n`);
    expect(result.findings.map((f) => f.location.line)).toEqual([1, 2]);
  });
  it('baseline: accepted fingerprints are dropped and remembered for --write-baseline', () => {
    const all = scan(`a=${ghp}\nb=${npm}\n`).result.findings;
    const gh = all.find((f) => f.ruleId === 'github-token')!;
    const { result, filters } = scan(`a=${ghp}\nb=${npm}\n`, { baseline: new Set([gh.fingerprint]) });
    expect(result.findings.map((f) => f.ruleId)).toEqual(['npm-token']);
    expect(filters.baselined().map((f) => f.fingerprint)).toEqual([gh.fingerprint]);
  });
  it('fail-on: findings below the threshold are reported but do not fail the run', () => {
    const text = `a=${ghp}\nAuthorization: Bearer ${RULES.find((r) => r.id === 'jwt')!.examples.truePositives[0]!.split('Bearer ')[1]}\n`;
    const low = scan(text).result;
    expect(low.findings.map((f) => f.severity).sort()).toEqual(['critical', 'medium']);
    expect(low.failing).toBe(2);
    expect(scan(text, { failOn: 'high' }).result.failing).toBe(1);
    expect(scan(text, { failOn: 'critical', baseline: new Set(low.findings.filter((f) => f.severity === 'critical').map((f) => f.fingerprint)) }).result)
      .toMatchObject({ failing: 0, findings: [{ severity: 'medium' }] });
  });
});
