import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkPolicyFiles, combinePolicyFiles, combineTestFiles, parseEntitiesFile, readTestFiles, runCasesOffline, type SourceFile,
} from '../../src/authz/policies/index.js';
import { runCustos } from '../support/cli-process.js';
import { startHarness, type Harness } from '../support/harness.js';

// examples/policy-repo is what the docs tell people to copy: its policies validate, its test cases pass offline,
// its CI workflow runs the offline commands, and — the point of policy as code — the same cases pass on a server
// whose registry holds its entities (the server's activation and `custos policy test` agree).

const REPO = path.resolve(import.meta.dirname, '../../examples/policy-repo');
const read = (dir: string, ext: RegExp): SourceFile[] => fs.readdirSync(path.join(REPO, dir)).filter((f) => ext.test(f)).sort()
  .map((f) => ({ path: `${dir}/${f}`, text: fs.readFileSync(path.join(REPO, dir, f), 'utf8') }));

const policyFiles = read('policies', /\.cedar$/);
const testFiles = read('tests', /\.ya?ml$/);
const entitiesText = fs.readFileSync(path.join(REPO, 'entities.yaml'), 'utf8');

describe('examples/policy-repo offline', () => {
  it('validates, and every policy has an @id', () => {
    const { problems, ids } = checkPolicyFiles(policyFiles);
    expect(problems).toEqual([]);
    expect(ids.length).toBeGreaterThanOrEqual(5);
    expect(ids.every((id) => !/^policy\d+$/.test(id))).toBe(true);
  });

  it('passes every test case, allow and deny both exercised', () => {
    const { cases, problems } = readTestFiles(testFiles);
    expect(problems).toEqual([]);
    const results = runCasesOffline(combinePolicyFiles(policyFiles), cases, parseEntitiesFile(entitiesText));
    expect(results.filter((r) => !r.passed)).toEqual([]);
    expect(new Set(results.map((r) => r.got))).toEqual(new Set(['allow', 'deny']));
  });

  it('its CI workflow runs validate and test offline, and applies only on main', () => {
    const wf = parse(fs.readFileSync(path.join(REPO, '.github/workflows/policy.yml'), 'utf8')) as { jobs: Record<string, { steps: Array<{ run?: string; env?: Record<string, string> }>; if?: string }> };
    const check = wf.jobs.check!.steps.map((s) => s.run ?? '').join('\n');
    expect(check).toMatch(/^custos policy validate policies$/m);
    expect(check).toMatch(/^custos policy test .*--entities entities\.yaml$/m);
    // Custos is not on npm: the workflow builds it from its repository instead of `npx custos` / `npm install`.
    expect(check).not.toMatch(/npx custos|npm install/);
    expect(check).toMatch(/npm link/);
    const offlineSteps = wf.jobs.check!.steps.filter((s) => /policy (validate|test)/.test(s.run ?? ''));
    expect(offlineSteps.every((s) => !s.env?.CUSTOS_TOKEN)).toBe(true);
    expect(wf.jobs.apply!.if).toMatch(/refs\/heads\/main/);
  });
});

describe('examples/policy-repo documentation', () => {
  it('does not depend on a custos package from npm, nor tell people to npx it', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
    expect(pkg.dependencies?.custos).toBeUndefined();
    expect(pkg.devDependencies?.custos).toBeUndefined();
    expect(fs.readFileSync(path.join(REPO, 'README.md'), 'utf8')).not.toMatch(/npx custos/);
  });

  it('uses the purpose names of the main README (customer-support)', () => {
    expect(entitiesText).toMatch(/purposes: \[customer-support\]/);
    expect(entitiesText).not.toMatch(/purposes: \[support\]/);
  });
});

describe('examples/policy-repo README on a server, through the CLI', () => {
  let h: Harness;
  let env: Record<string, string>;
  beforeAll(async () => {
    h = await startHarness('sqlite');
    env = { CUSTOS_SERVER: await h.cp.listen(), CUSTOS_TOKEN: h.adminToken, CUSTOS_DATA_DIR: '/nonexistent' };
  }, 60_000);
  afterAll(async () => { await h?.close(); });

  it('its "register the entities first" commands let `policy apply --activate` pass on a fresh server', async () => {
    const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
    const block = readme.split('### Register the entities first')[1]!.split('```sh')[1]!.split('```')[0]!;
    const commands = block.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('custos '));
    expect(commands.length).toBeGreaterThan(10);
    for (const line of commands) {
      expect(line, 'no quoting in this block: it is split on spaces here').not.toMatch(/["'\\]/);
      const r = await runCustos(line.split(/\s+/).slice(1), env);
      expect(r.code, `${line}: ${r.stderr}`).toBe(0);
    }
    const apply = await runCustos(['policy', 'apply', path.join(REPO, 'policies'), '--tests', path.join(REPO, 'tests'), '--activate', '--reason', 'README'], env);
    expect(apply.code, apply.stdout + apply.stderr).toBe(0);
    expect(apply.stdout).toMatch(/^version 1 is active; tests: \d+ passed, 0 failed\n$/);
    expect(apply.stderr).toBe('');
  }, 120_000);
});

describe('examples/policy-repo on a server', () => {
  let h: Harness;

  /** Creates the entities file's teams, principals and resources through the API. */
  async function seed(): Promise<void> {
    const file = parse(entitiesText) as {
      teams: Array<{ name: string }>;
      principals: Array<{ name: string; kind: string; owner?: string; team?: string; member_of?: string[]; purposes?: string[] }>;
      resources: Array<{ name: string; kind: string; owner: string; classification?: string; purposes?: string[]; labels?: Record<string, string>; parent?: string }>;
    };
    const ok = async (method: string, url: string, body: unknown) => {
      const r = await h.call(method, url, body);
      expect(r.status, `${method} ${url}: ${r.text}`).toBeLessThan(300);
    };
    for (const t of file.teams) await ok('POST', '/v1/teams', { name: t.name });
    const humans = file.principals.filter((p) => p.kind === 'human');
    for (const p of [...humans, ...file.principals.filter((x) => x.kind !== 'human')]) {
      await ok('POST', '/v1/principals', {
        name: p.name, kind: p.kind, status: 'active', ...(p.owner ? { owner: p.owner } : {}), ...(p.team ? { team: p.team } : {}), purposes: p.purposes ?? [],
      });
      for (const t of p.member_of ?? []) await ok('PUT', `/v1/teams/${t}/members/${p.name}`, {});
    }
    for (const r of file.resources) {
      await ok('POST', '/v1/resources', {
        name: r.name, kind: r.kind, owner: r.owner, ...(r.classification ? { classification: r.classification } : {}),
        purposes: r.purposes ?? [], labels: r.labels ?? {}, ...(r.parent ? { parent: r.parent } : {}),
      });
    }
  }

  beforeAll(async () => {
    h = await startHarness('sqlite');
    await seed();
  }, 60_000);
  afterAll(async () => { await h?.close(); });

  it('the same test cases pass at activation against the registry', async () => {
    const { cases } = readTestFiles(testFiles);
    const created = await h.call('POST', '/v1/policies', { policies: combinePolicyFiles(policyFiles), tests: combineTestFiles(testFiles, cases), description: 'example repo' });
    expect(created.status, created.text).toBe(201);
    expect(created.body.test_report.results.filter((r: { passed: boolean }) => !r.passed)).toEqual([]);
    const offline = runCasesOffline(combinePolicyFiles(policyFiles), cases, parseEntitiesFile(entitiesText));
    // The reasons agree too, case by case (Cedar lists determining policies in no fixed order).
    const sorted = (rs: Array<{ reasons: string[] }>) => rs.map((r) => ({ ...r, reasons: [...r.reasons].sort() }));
    expect(sorted(created.body.test_report.results)).toEqual(sorted(offline));
    const activated = await h.call('POST', `/v1/policies/${created.body.version}/activate`, { reason: 'example' });
    expect(activated.status, activated.text).toBe(200);
    expect(activated.body.test_report.failed).toBe(0);
  });
});
