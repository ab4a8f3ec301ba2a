import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCustos, type CliResult } from '../support/cli-process.js';
import { startHarness, type Harness } from '../support/harness.js';

// The CLI as a user runs it: a separate process talking to a real server over HTTP.

let h: Harness;
let url: string;

async function custos(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCustos(args, { CUSTOS_SERVER: url, CUSTOS_TOKEN: h.adminToken, CUSTOS_DATA_DIR: '/nonexistent', ...env });
}

beforeAll(async () => {
  h = await startHarness('sqlite');
  url = await h.cp.listen();
});
afterAll(async () => { await h.close(); });

describe('custos CLI', () => {
  it('registers and lists principals, with tables for people and --json for scripts', async () => {
    expect((await custos(['principal', 'add', 'dana', '--kind', 'human'])).code).toBe(0);
    const add = await custos(['--json', 'principal', 'add', 'triage-agent', '--kind', 'agent', '--owner', 'dana', '--env', 'prod', '--label', 'app=triage', '--scope', 'model:invoke']);
    expect(add.code).toBe(0);
    expect(JSON.parse(add.stdout)).toMatchObject({ name: 'triage-agent', owner: { name: 'dana' }, labels: { app: 'triage' }, scopes: ['model:invoke'] });
    const list = await custos(['principal', 'list', '--kind', 'agent']);
    expect(list.stdout).toMatch(/triage-agent\s+│\s+agent\s+│\s+proposed/);
    const json = JSON.parse((await custos(['principal', 'list', '--json', '--label', 'app=triage'])).stdout);
    expect(json.items.map((p: { name: string }) => p.name)).toEqual(['triage-agent']);
  });

  it('exits 1 with a one-line reason and the stable code when the server refuses', async () => {
    const r = await custos(['principal', 'add', 'orphan-bot', '--kind', 'agent']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^custos: .*\(owner_required\)/);
  });

  it('exits 2 on a usage error', async () => {
    const r = await custos(['principal', 'add', 'x']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--kind/);
    expect((await custos(['principal', 'add', 'x', '--kind', 'robot'])).code).toBe(2);
  });

  it('exits 3 when the server is unreachable or no token is available', async () => {
    const down = await custos(['principal', 'list'], { CUSTOS_SERVER: 'http://127.0.0.1:1' });
    expect(down.code).toBe(3);
    expect(down.stderr).toMatch(/cannot reach/);
    const none = await custos(['principal', 'list'], { CUSTOS_TOKEN: '' });
    expect(none.code).toBe(3);
  });

  it('applies the same role check as the API: an auditor cannot write', async () => {
    const auditor = await h.operator('cli-auditor', 'auditor');
    const r = await custos(['principal', 'add', 'sneaky', '--kind', 'human'], { CUSTOS_TOKEN: auditor });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/forbidden/);
    expect((await custos(['principal', 'list'], { CUSTOS_TOKEN: auditor })).code).toBe(0);
  });

  it('walks a principal through its lifecycle and names the allowed transitions on a bad one', async () => {
    expect((await custos(['principal', 'activate', 'triage-agent', '--reason', 'approved'])).stdout).toMatch(/now active/);
    const bad = await custos(['principal', 'activate', 'triage-agent']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/allowed from 'active': suspended, decommissioned/);
    expect((await custos(['principal', 'suspend', 'dana'])).code).toBe(0);
    expect((await custos(['principal', 'list', '--orphaned'])).stdout).toContain('triage-agent');
  });

  it('exports the inventory as CSV and JSON', async () => {
    const csv = await custos(['principal', 'export', '--format', 'csv']);
    const lines = csv.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^id,name,kind,status,owner/);
    expect(lines.some((l) => l.includes(',triage-agent,agent,'))).toBe(true);
    const json = JSON.parse((await custos(['principal', 'export', '--format', 'json'])).stdout);
    expect(json.length).toBe(lines.length - 1);
  });

  it('mints an operator token that works and revokes it', async () => {
    await custos(['principal', 'add', 'erin', '--kind', 'human']);
    const minted = await custos(['token', 'create', 'erin', '--role', 'security', '--ttl', '600']);
    expect(minted.code).toBe(0);
    const token = minted.stdout.trim();
    expect(token).toMatch(/^custos_op_/);
    expect((await custos(['whoami'], { CUSTOS_TOKEN: token })).stdout).toMatch(/erin \(security\)/);
    const id = token.split('_')[2]!;
    expect((await custos(['token', 'revoke', id, '--reason', 'test'])).code).toBe(0);
    // A refused token is a credentials problem: exit 3, as the README says.
    expect((await custos(['whoami'], { CUSTOS_TOKEN: token })).code).toBe(3);
    const again = await custos(['token', 'revoke', id]);
    expect([again.code, again.stdout]).toEqual([0, expect.stringMatching(/already revoked/)]);
  });

  it('verifies the audit log and an inclusion proof', async () => {
    await h.cp.checkpointer.checkpointNow();
    const key = (await custos(['audit', 'public-key'])).stdout.trim();
    const v = await custos(['audit', 'verify', '--public-key', key]);
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/^OK: \d+ events verified/);
    const p = await custos(['audit', 'verify-proof', '3', '--public-key', key]);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toMatch(/included in the signed tree/);
    const wrongKey = await custos(['audit', 'verify', '--public-key', 'other+01020304+AQ' + 'A'.repeat(42) + '=']);
    expect(wrongKey.code).not.toBe(0);
    // Export streams JSON Lines: one canonical event per line, the same count the log holds.
    const fs = await import('node:fs');
    const file = path.join(h.dataDir, 'export.jsonl');
    expect((await custos(['audit', 'export', '--output', file])).code).toBe(0);
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { seq: number });
    expect(lines.map((e) => e.seq)).toEqual(lines.map((_, i) => i));
  });

  it('scan --report stores findings and revokes a leaked live operator token at once', async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    await custos(['principal', 'add', 'frank', '--kind', 'human']);
    const leaked = (await custos(['token', 'create', 'frank', '--role', 'auditor'])).stdout.trim();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-cli-leak-'));
    fs.writeFileSync(path.join(dir, 'deploy.env'), `CUSTOS_TOKEN=${leaked}\n`);
    const scan = await custos(['scan', 'dir', dir, '--format', 'json', '--report', '--public-repo']);
    expect(scan.code).toBe(1);
    expect(scan.stderr).toMatch(/REVOKED leaked Custos credential\(s\): [a-z2-7]{16}/);
    expect(scan.stdout).not.toContain(leaked);
    expect((await custos(['whoami'], { CUSTOS_TOKEN: leaked })).code).toBe(3);
    const list = JSON.parse((await custos(['findings', 'list', '--json', '--status', 'revoked'])).stdout);
    expect(list.items.some((f: { credential: { id: string } | null }) => f.credential?.id === leaked.split('_')[2])).toBe(true);
    const offline = await custos(['scan', 'dir', dir, '--report'], { CUSTOS_SERVER: 'http://127.0.0.1:1' });
    expect(offline.code).toBe(4);
    expect(offline.stderr).toMatch(/report failed/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
