import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemActor } from '../../src/platform/actor.js';
import { CUSTOS_BIN, runCustos, type CliResult } from '../support/cli-process.js';
import { startHarness, type Harness } from '../support/harness.js';

// `custos policy` as a user runs it (a separate process from dist/): validate, test and diff offline on the files
// of a policy repository in a temp dir, with no server anywhere; then apply, activate, history, show, rollback and
// impact against a real server.

const POLICY = `// Agents invoke models for a purpose both allow.
@id("agents-invoke-for-purpose")
permit (principal is Custos::Agent, action == Custos::Action::"invoke", resource is Custos::Model)
when { context.purpose != "" && resource.purposes.contains(context.purpose) && principal.purposes.contains(context.purpose) };
`;
const DATA = `@id("people-read-internal")
permit (principal is Custos::Human, action == Custos::Action::"read", resource is Custos::Dataset)
when { resource.classification_rank <= 1 };
`;
const TESTS = `- name: billing bot invokes the support model for support
  principal: billing-bot
  action: invoke
  resource: support-llm
  purpose: support
  expect: allow
- name: no purpose, no invoke
  principal: billing-bot
  action: invoke
  resource: support-llm
  expect: deny
`;
const DATA_TESTS = `cases:
  - name: dana reads the internal dataset from a compliant laptop
    principal: dana
    action: read
    resource: { type: dataset, id: tickets }
    context: { posture: compliant }
    expect: allow
  - name: a suspended agent is denied by the guardrail
    principal: old-bot
    action: invoke
    resource: support-llm
    purpose: support
    expect: deny
`;
const ENTITIES = `teams:
  - name: support
principals:
  - { name: dana, kind: human, member_of: [support] }
  - { name: billing-bot, kind: agent, purposes: [support], owner: dana, team: support }
  - { name: old-bot, kind: agent, status: suspended, purposes: [support] }
resources:
  - { name: support-llm, kind: model, purposes: [support] }
  - { name: tickets, kind: dataset, classification: internal }
`;

let dir: string;
// No server is reachable at this address and no token is given: the offline commands need neither.
const NO_SERVER = { CUSTOS_SERVER: 'http://127.0.0.1:1', CUSTOS_TOKEN: '' };
const offline = (args: string[]): Promise<CliResult> => runCustos(['policy', ...args], NO_SERVER);
/** `@rel` arguments are paths in the repository. */
const inRepo = (args: string[]) => offline(args.map((a) => (a.startsWith('@') ? path.join(dir, a.slice(1)) : a)));

function write(rel: string, text: string): string {
  const file = path.join(dir, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-policy-repo-'));
  write('policies/models.cedar', POLICY);
  write('policies/data.cedar', DATA);
  write('tests/models.yaml', TESTS);
  write('tests/data.yaml', DATA_TESTS);
  write('entities.yaml', ENTITIES);
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('custos policy offline (no server)', () => {
  it('validates a directory of Cedar files', async () => {
    const r = await inRepo(['validate', '@policies']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ok: 2 files, 2 policies \(people-read-internal, agents-invoke-for-purpose\)/);
    const json = await inRepo(['--json', 'validate', '@policies/models.cedar']);
    expect(JSON.parse(json.stdout)).toEqual({ files: [path.join(dir, 'policies/models.cedar')], policies: ['agents-invoke-for-purpose'] });
  });

  it('reports each problem as file:line:column and exits 1 with a one-line summary', async () => {
    const bad = write('bad/typo.cedar', '@id("typo")\npermit (principal, action, resource is Custos::Model)\nwhen { resource.clasification == "public" };\n');
    const r = await offline(['validate', bad]);
    expect(r.code).toBe(1);
    expect(r.stdout.trim()).toMatch(new RegExp(`^${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:8: policy 'typo': attribute \`clasification\``));
    expect(r.stderr.trim().split('\n')).toEqual(['custos: 1 problem in 1 file']);
    const parse = write('bad/parse.cedar', 'permit (principal, action, resource)\nwhen { principal.name == };\n');
    expect((await offline(['validate', parse])).stdout).toMatch(/parse\.cedar:2:26: /);
  });

  it('refuses an id used in two files', async () => {
    const again = write('dupe/again.cedar', POLICY);
    const r = await offline(['validate', path.join(dir, 'policies'), again]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/the id 'agents-invoke-for-purpose' is used in .*models\.cedar and .*again\.cedar/);
  });

  it('exits 2 with one line on a path that does not exist or a directory without Cedar files', async () => {
    const none = await offline(['validate', path.join(dir, 'nope')]);
    expect(none.code).toBe(2);
    expect(none.stderr.trim().split('\n')).toHaveLength(1);
    expect(none.stderr).toMatch(/no such file or directory/);
    const empty = await offline(['validate', path.join(dir, 'tests')]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/no Cedar files/);
  });

  it('runs the test cases against the files and an entities file, guardrails included', async () => {
    // Run from the repository: policies/, tests/ and entities.yaml are the defaults.
    const r = await runInDir(dir, ['policy', 'test']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/4 passed, 0 failed/);
    expect(r.stdout).toMatch(/pass\s+│ a suspended agent is denied by the guardrail\s+│ deny\s+│ deny\s+│ forbid:guardrail:inactive-principal@old-bot/);
    const json = JSON.parse((await runInDir(dir, ['--json', 'policy', 'test'])).stdout);
    expect(json).toMatchObject({ passed: 4, failed: 0 });
  });

  it('fails (exit 1) when a case does not get its expected decision, and names it', async () => {
    const failing = write('failing/cases.yaml', '- {name: bot reads tickets, principal: billing-bot, action: read, resource: tickets, expect: allow}\n');
    const r = await runInDir(dir, ['policy', 'test', '--tests', failing]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL\s+│ bot reads tickets\s+│ allow\s+│ deny\s+│ no_permit@billing-bot/);
    expect(r.stderr.trim()).toBe('custos: 1 of 1 test case failed');
  });

  it('refuses test files and entities files that are not of the documented shape, with their lines', async () => {
    const bad = write('badtests/cases.yaml', '- name: a\n  principal: dana\n  action: read\n  resource: tickets\n  expect: perhaps\n');
    const r = await runInDir(dir, ['policy', 'test', '--tests', bad]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/cases\.yaml:5:\d+: case 'a': 0\.expect: /);
    const ents = write('badents.yaml', 'principals:\n  - { name: x, kind: robot }\n');
    const e = await runInDir(dir, ['policy', 'test', '--entities', ents]);
    expect(e.code).toBe(1);
    expect(e.stdout).toMatch(/entities: principals\.0\.kind/);
  });

  it('diffs two versions by @id; layout changes are not changes', async () => {
    write('next/models.cedar', POLICY.replace('permit (principal is Custos::Agent,', 'permit (\n  principal is Custos::Agent,\n '));
    write('next/extra.cedar', '@id("no-restricted-export")\nforbid (principal, action == Custos::Action::"export", resource is Custos::Dataset) when { resource.classification == "restricted" };\n');
    const r = await offline(['diff', path.join(dir, 'policies'), path.join(dir, 'next')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('+ no-restricted-export\n- people-read-internal\n1 added, 1 removed, 0 changed, 1 unchanged\n');
    write('next/models.cedar', POLICY.replace('context.purpose != "" && ', ''));
    const changed = JSON.parse((await offline(['--json', 'diff', path.join(dir, 'policies'), path.join(dir, 'next')])).stdout);
    expect(changed.changed).toEqual(['agents-invoke-for-purpose']);
  });

  it('a file nested deeply enough to break the Cedar engine is that file\'s problem, not a crash; the other files are still checked', async () => {
    const deep = write('hostile/deep.cedar', `@id("deep") permit (principal, action, resource) when { ${'('.repeat(400)}true${')'.repeat(400)} };\n`);
    const typo = write('hostile/typo.cedar', '@id("typo")\npermit (principal, action, resource is Custos::Model)\nwhen { resource.clasification == "public" };\n');
    const r = await offline(['validate', path.dirname(deep)]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toContain(`${deep}: the Cedar engine failed on this text`);
    expect(r.stdout).toContain(`${typo}:3:8: policy 'typo'`);
    expect(r.stderr.trim().split('\n')).toEqual(['custos: 2 problems in 2 files']);
    const chain = write('hostile2/chain.cedar', `@id("chain") permit (principal, action, resource) when { ${Array.from({ length: 1000 }, (_, i) => `context.risk.score == ${i}`).join(' || ')} };\n`);
    const c = await offline(['validate', chain]);
    expect(c.code).toBe(1);
    expect(c.stdout).toMatch(/chain\.cedar: the Cedar text is nested too deeply \(depth \d+, at most 128\)/);
  });

  it('refuses a file name that would write Cedar into the combined text (exit 2)', async () => {
    const evil = path.join(dir, 'evil');
    write('evil/a.cedar', DATA);
    // (A file name cannot hold `/`, so a real attack needs more care than this name; any newline is refused.)
    write('evil/b\n@id("injected") permit (principal, action, resource);\n.cedar', POLICY);
    const r = await offline(['validate', evil]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/b\\u000a@id\("injected"\).*a file name with control, line-separator or bidirectional characters is not accepted/);
    expect((await offline(['validate', path.join(evil, 'b\nx.cedar')])).code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('--json on failure prints {files, errors}; problems without a place print as "file: message"; App:: actions get a hint', async () => {
    const again = write('dupe2/again.cedar', POLICY);
    const text = await offline(['validate', path.join(dir, 'policies'), again]);
    expect(text.stdout).toMatch(new RegExp(`models\\.cedar: policy 'agents-invoke-for-purpose': the id`));
    const r = await offline(['--json', 'validate', path.join(dir, 'policies'), again]);
    expect(r.code).toBe(1);
    const json = JSON.parse(r.stdout);
    expect(json.files).toHaveLength(3);
    expect(json.errors).toEqual([expect.objectContaining({ file: path.join(dir, 'policies/models.cedar'), policy: 'agents-invoke-for-purpose', line: null })]);
    const app = write('app/todo.cedar', '@id("todo") permit (principal, action == App::Action::"can_read_todo", resource);\n');
    const hinted = await offline(['validate', app]);
    expect(hinted.code).toBe(1);
    expect(hinted.stdout).toMatch(/hint: these name application \(App::\) actions: give their schema with --app-schema <file>\n$/);
  });

  it('without an entities file, test is a usage error (exit 2, one line) unless --entities is given', async () => {
    const bare = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-policy-bare-'));
    try {
      fs.cpSync(path.join(dir, 'policies'), path.join(bare, 'policies'), { recursive: true });
      fs.cpSync(path.join(dir, 'tests'), path.join(bare, 'tests'), { recursive: true });
      const r = await runInDir(bare, ['policy', 'test']);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/no entities\.yaml here: .*give --entities FILE/);
      expect(r.stdout).toBe('');
      const given = await runInDir(bare, ['policy', 'test', '--entities', path.join(dir, 'entities.yaml')]);
      expect(given.code, given.stderr).toBe(0);
    } finally {
      fs.rmSync(bare, { recursive: true, force: true });
    }
  });

  it('warns about a deny case that passed only because the request was refused as unknown; --strict fails it', async () => {
    const typo = write('typo-tests/cases.yaml', '- {name: a misspelt bot is denied, principal: biling-bot, action: invoke, resource: support-llm, purpose: support, expect: deny}\n');
    const r = await runInDir(dir, ['policy', 'test', '--tests', typo]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/1 passed, 0 failed, 1 warning\n$/);
    expect(r.stderr).toMatch(/^warning: case 'a misspelt bot is denied' passed only because the request was refused \(refused:unknown_principal\)/);
    const strict = await runInDir(dir, ['policy', 'test', '--tests', typo, '--strict']);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toMatch(/custos: 1 deny case passed only because the request was refused \(--strict\)/);
    const json = JSON.parse((await runInDir(dir, ['--json', 'policy', 'test', '--tests', typo])).stdout);
    expect(json.warnings).toHaveLength(1);
  });

  it('diff --text shows how a changed policy changed', async () => {
    write('next2/models.cedar', POLICY.replace('context.purpose != "" && ', ''));
    const r = await offline(['diff', '--text', path.join(dir, 'policies/models.cedar'), path.join(dir, 'next2/models.cedar')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^~ agents-invoke-for-purpose\n/);
    expect(r.stdout).toMatch(/\n {4}- when \{ context\.purpose != "" && resource\.purposes/);
    expect(r.stdout).toMatch(/\n {4}\+ when \{ resource\.purposes/);
  });
});

/** The CLI run from a directory (the policy repository), with only PATH and `env` in its environment. */
function runInDir(cwd: string, args: string[], env: Record<string, string> = NO_SERVER): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CUSTOS_BIN, ...args], { cwd, env: { PATH: process.env.PATH ?? '', ...env } }, (error, stdout, stderr) => {
      resolve({ code: error ? (error as { code?: number }).code ?? 1 : 0, stdout, stderr });
    });
  });
}

describe('custos policy against a server', () => {
  let h: Harness;
  let url: string;
  const custos = (args: string[]) => runInDir(dir, args, { CUSTOS_SERVER: url, CUSTOS_TOKEN: h.adminToken, CUSTOS_DATA_DIR: '/nonexistent' });

  beforeAll(async () => {
    h = await startHarness('sqlite');
    url = await h.cp.listen();
    await h.call('POST', '/v1/principals', { name: 'dana', kind: 'human' });
    await h.call('POST', '/v1/teams', { name: 'support' });
    await h.call('PUT', '/v1/teams/support/members/dana', {});
    await h.call('POST', '/v1/principals', { name: 'billing-bot', kind: 'agent', owner: 'dana', status: 'active', purposes: ['support'] });
    await h.call('POST', '/v1/principals', { name: 'old-bot', kind: 'agent', owner: 'dana', status: 'active', purposes: ['support'] });
    await h.call('POST', '/v1/principals/old-bot/suspend', { reason: 'test' });
    await h.call('POST', '/v1/resources', { name: 'support-llm', kind: 'model', owner: 'dana', purposes: ['support'] });
    await h.call('POST', '/v1/resources', { name: 'tickets', kind: 'dataset', owner: 'dana', classification: 'internal' });
  }, 60_000);
  afterAll(async () => { await h.close(); });

  it('applies the repository and activates it when the tests pass; the same cases pass on the server as offline', async () => {
    const r = await custos(['policy', 'apply', 'policies', '--tests', 'tests', '--description', 'first', '--activate', '--reason', 'PR 1']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('version 1 is active; tests: 4 passed, 0 failed\n');
    const v = (await h.call('GET', '/v1/policies/1')).body;
    expect(v.policy_ids).toEqual(['people-read-internal', 'agents-invoke-for-purpose']);
    expect(v.policies).toContain('// file: policies/data.cedar');
    expect(v.test_count).toBe(4);
  });

  it('--activate without --reason is a usage error (exit 2), before anything is sent', async () => {
    const r = await custos(['policy', 'apply', 'policies', '--activate']);
    expect(r.code).toBe(2);
    expect((await h.call('GET', '/v1/policies')).body.items).toHaveLength(1);
  });

  it('a version whose tests fail is created but not activated: exit 1, one line, the active version unchanged', async () => {
    const failing = write('server-failing/cases.yaml', '- {name: bot reads tickets, principal: billing-bot, action: read, resource: tickets, expect: allow}\n');
    const r = await custos(['policy', 'apply', 'policies', '--tests', failing, '--activate', '--reason', 'PR 2']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/version 2 was not activated: test 'bot reads tickets' expected allow but got deny/);
    expect((await h.call('GET', '/v1/policies/active')).body.version).toBe(1);
  });

  it('applies without activating, activates by number, shows history, rolls back', async () => {
    const created = await custos(['policy', 'apply', 'policies/models.cedar', '--tests', 'tests/models.yaml', '--description', 'models only']);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/^created policy version 3 \(candidate\): 1 policies, 2 tests \(2 pass, 0 fail/);
    expect((await custos(['policy', 'activate', '3', '--reason', 'models only'])).stdout).toBe('version 3 is active (was 1); tests: 2 passed, 0 failed\n');
    const history = await custos(['policy', 'history']);
    expect(history.stdout).toMatch(/3\s+│ active\s+│/);
    expect(history.stdout).toMatch(/2\s+│ rejected\s+│/);
    expect(history.stdout).toMatch(/1\s+│ superseded\s+│/);
    const text = await custos(['policy', 'show', 'active', '--text']);
    expect(text.stdout).toBe(POLICY);
    const back = await custos(['policy', 'rollback', '--reason', 'need data reads']);
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout).toBe('version 1 is active (was 3); tests: 4 passed, 0 failed\n');
    expect((await custos(['policy', 'activate', 'x', '--reason', 'r'])).code).toBe(2);
  });

  it('replays recorded decisions against the files and lists the flips', async () => {
    await h.cp.authz.pdp.decide({ principal: 'dana', action: 'read', resource: { kind: 'registry', ref: 'tickets' }, facts: { purpose: null, delegationChain: [], authMethod: 'federated', credentialKind: 'access_token', dpopBound: false, issuedAt: null, sourceIp: null, via: 'direct', workloadId: null }, requestId: null }, systemActor());
    const r = await custos(['policy', 'impact', 'policies/models.cedar', '--limit', '10']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/dana\s+│ read\s+│ tickets\s+│ allow\s+│ deny\s+│ no_permit@dana/);
    expect(r.stdout).toMatch(/replayed 1 decision; 1 would flip\n$/);
    const json = JSON.parse((await custos(['--json', 'policy', 'impact', '--stored', '1'])).stdout);
    expect(json).toMatchObject({ candidate: 'candidate:1', replayed: 1, flips: [] });
  });

  it('impact: names principals, fails with --fail-on-flip, and refuses paths with --stored (exit 2)', async () => {
    const r = await custos(['policy', 'impact', 'policies/models.cedar', '--limit', '10', '--fail-on-flip']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/dana\s+│ read\s+│ tickets/);
    expect(r.stderr.trim()).toBe('custos: 1 decision would flip (--fail-on-flip)');
    expect((await custos(['policy', 'impact', 'policies', '--limit', '10', '--fail-on-flip'])).code).toBe(0);
    const both = await custos(['policy', 'impact', 'policies', '--stored', '1']);
    expect(both.code).toBe(2);
    expect(both.stderr.trim()).toBe('custos: give either paths or --stored, not both');
  });

  it('a refused activation prints its failing cases (a table, or with --json the refusal), and history says why it was refused', async () => {
    const failing = write('server-failing2/cases.yaml', '- {name: bot reads tickets again, principal: billing-bot, action: read, resource: tickets, expect: allow}\n');
    const r = await custos(['policy', 'apply', 'policies', '--tests', failing, '--activate', '--reason', 'PR 3']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL\s+│ bot reads tickets again\s+│ allow\s+│ deny\s+│ no_permit@billing-bot/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    const json = await custos(['--json', 'policy', 'apply', 'policies', '--tests', failing, '--activate', '--reason', 'PR 4']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ code: 'policy_tests_failed', failures: [{ name: 'bot reads tickets again', expect: 'allow', got: 'deny' }] });
    const history = await custos(['policy', 'history', '--status', 'rejected']);
    expect(history.stdout).toMatch(/rejected\s+│.*activation refused: test 'bot reads tickets again' expected allow but got deny; activation reason: PR 3/);
    const show = await custos(['policy', 'show', '1']);
    expect(show.stdout).toMatch(/^created_by\s+bootstrap-admin$/m);
  });

  it('apply without --tests stores the tests directory next to the policies, and warns when there is none', async () => {
    const r = await custos(['policy', 'apply', 'policies', '--description', 'default tests']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/: 2 policies, 4 tests/);
    expect(r.stderr).toBe('');
    const lone = write('lone/policies/models.cedar', POLICY);
    const bare = await custos(['policy', 'apply', path.dirname(lone)]);
    expect(bare.code, bare.stderr).toBe(0);
    expect(bare.stdout).toMatch(/: 1 policies, 0 tests/);
    expect(bare.stderr).toMatch(/^warning: no --tests and no .*lone\/tests directory/);
    const none = await custos(['policy', 'apply', path.dirname(lone), '--no-tests']);
    expect(none.stderr).toBe('');
  });
});
