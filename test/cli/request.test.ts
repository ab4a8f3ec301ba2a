import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';
import { registerRequestCommands } from '../../src/cli/commands/request.js';
import { runCommands } from '../../src/cli/program.js';
import { capture } from '../support/cli-capture.js';

// `custos request create|list|show|approve|deny|cancel` against a real server over HTTP, in-process — including the
// separation-of-duties bypasses a person could try from the command line: approving their own request, approving
// text they did not read (a stale --hash), approving with an agent's credential.


let h: Harness;
let url: string;
const t = {} as Record<'alice' | 'bob', string>;
async function custos(args: string[], token = h.adminToken) {
  const c = capture({ CUSTOS_SERVER: url, CUSTOS_TOKEN: token, CUSTOS_DATA_DIR: '/nonexistent' });
  const code = await runCommands(args, c.io);
  return { code, stdout: c.out(), stderr: c.err() };
}

beforeAll(async () => {
  h = await startHarness('sqlite');
  url = await h.cp.listen();
  t.alice = await h.operator('alice', 'owner');
  t.bob = await h.operator('bob', 'owner');
  await h.call('POST', '/v1/principals', { name: 'alice-bot', kind: 'agent', owner: 'alice', status: 'active', purposes: ['support'], scopes: ['custos:access-request'] });
  await h.call('POST', '/v1/resources', { name: 'kb', kind: 'dataset', owner: 'bob', risk_tier: 'medium', purposes: ['support'] });
});
afterAll(async () => { await h?.close(); });

const idOf = (out: string) => /request ([0-9a-f-]{36})/.exec(out)![1]!;

describe('custos request', () => {
  it('every command describes every option and shows an example', async () => {
    const program = new Command('custos');
    registerRequestCommands(program, capture().io);
    const commands = program.commands.flatMap((c) => [c, ...c.commands]);
    expect(commands.flatMap((c) => c.options.filter((o) => !o.description).map((o) => `${c.name()} ${o.flags}`))).toEqual([]);
    for (const path of [['request'], ['request', 'create'], ['request', 'list'], ['request', 'approve'], ['request', 'deny']]) {
      const r = await custos([...path, '--help']);
      expect(r.code, path.join(' ')).toBe(0);
      expect(r.stdout, path.join(' ')).toMatch(/\nExamples?:\n {2}custos /);
    }
  });

  it('create, list, show, approve by someone else; the requester\'s own approval is refused', async () => {
    const created = await custos(['request', 'create', 'alice-bot', '--resource', 'kb', '--action', 'read', '--purpose', 'support', '--for', '2h', '--justification', 'INC-9 triage', '--ticket', 'INC-9'], t.alice);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout).toMatch(/^request [0-9a-f-]{36}: 'alice-bot' read on 'kb' for support — pending \(medium\): needs anyone\n$/);
    const id = idOf(created.stdout);
    expect((await custos(['request', 'list', '--status', 'pending'])).stdout).toContain(id);
    const shown = await custos(['request', 'show', id]);
    expect(shown.stdout).toMatch(/request_hash +[0-9a-f]{64}/);
    expect(shown.stdout).toMatch(/accountable +alice/);

    const self = await custos(['request', 'approve', id], t.alice);
    expect(self.code).toBe(1);
    expect(self.stderr.trim().split('\n')).toHaveLength(1);
    expect(self.stderr).toContain('self_approval');

    const ok = await custos(['request', 'approve', id, '--comment', 'fine'], t.bob);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^approved revision 1 of .*: approved → grant [0-9a-f-]{36}\n$/);
    const json = JSON.parse((await custos(['--json', 'request', 'show', id])).stdout);
    expect(json).toMatchObject({ status: 'approved', approvals: [{ approver: { name: 'bob' }, comment: 'fine' }] });
  });

  it('a stale --hash (the request changed since it was read) is refused; a malformed one never leaves the CLI', async () => {
    const id = idOf((await custos(['request', 'create', 'alice-bot', '--resource', 'kb', '--action', 'read', '--purpose', 'support', '--for', '1h', '--justification', 'first text'], t.alice)).stdout);
    const hash = JSON.parse((await custos(['--json', 'request', 'show', id])).stdout).request_hash as string;
    expect((await h.call('PATCH', `/v1/access-requests/${id}`, { justification: 'different text' }, t.alice)).status).toBe(200);
    const stale = await custos(['request', 'approve', id, '--hash', hash], t.bob);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain('request_changed');
    const bad = await custos(['request', 'approve', id, '--hash', 'abc'], t.bob);
    expect(bad.code).toBe(2);
    const denied = await custos(['request', 'deny', id, '--reason', 'not now'], t.bob);
    expect(denied.code, denied.stderr).toBe(0);
    expect(denied.stdout).toContain('denied revision 2');
  });

  it('an agent files for itself with its own key but cannot approve; cancel by the requester', async () => {
    const key = (await h.call('POST', '/v1/api-keys', { principal: 'alice-bot', scope: ['custos:access-request'] })).body.key as string;
    const created = await custos(['request', 'create', '--resource', 'kb', '--action', 'read', '--purpose', 'support', '--for', '10m', '--justification', 'nightly sync'], key);
    expect(created.code, created.stderr).toBe(0);
    const id = idOf(created.stdout);
    const byAgent = await custos(['request', 'approve', id], key);
    expect(byAgent.code).toBe(1);
    expect(byAgent.stderr).toMatch(/forbidden|insufficient_scope/);
    expect((await custos(['request', 'cancel', id, '--reason', 'sync moved'], t.alice)).code).toBe(0);
    const late = await custos(['request', 'approve', id], t.bob);
    expect(late.stderr).toContain('request_not_pending');
    const usage = await custos(['request', 'create', 'alice-bot', '--justification', 'x'], t.alice);
    expect(usage.code).toBe(2);
  });
});
