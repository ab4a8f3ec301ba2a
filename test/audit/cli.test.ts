import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommands } from '../../src/cli/program.js';
import type { AuditIo } from '../../src/cli/commands/audit.js';
import { systemActor } from '../../src/platform/actor.js';
import { startHarness, type Harness } from '../support/harness.js';
import { asAttacker } from '../support/tamper.js';

// `custos audit` as an operator runs it, in process, against a real server over HTTP (or its store).

let h: Harness;
let url: string;
let tmp: string;

async function custos(args: string[], opts: { stdin?: string; env?: Record<string, string> } = {}) {
  let stdout = '';
  let stderr = '';
  const out = { write: (s: string) => { stdout += s; return true; } } as unknown as NodeJS.WritableStream;
  const err = { write: (s: string) => { stderr += s; return true; } } as unknown as NodeJS.WritableStream;
  const stdin = new PassThrough();
  stdin.end(opts.stdin ?? '');
  const io: AuditIo = { stdout: out, stderr: err, stdoutIsTTY: false, env: { CUSTOS_SERVER: url, CUSTOS_TOKEN: h.adminToken, ...opts.env }, stdin, stdinIsTTY: false };
  const code = await runCommands(args, io);
  return { code, stdout, stderr };
}

beforeAll(async () => {
  h = await startHarness('sqlite');
  url = await h.cp.listen();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-audit-cli-'));
  const actor = systemActor('background');
  await Promise.all(Array.from({ length: 600 }, (_, i) => h.cp.db.write((trx, batch) => h.cp.audit.record(trx, batch, {
    type: 'test.filler', action: 'test', actor, outcome: 'success', details: { i },
  }))));
  await h.cp.checkpointer.checkpointNow();
});
afterAll(async () => {
  await h.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('custos audit verify', () => {
  it('says when no external checkpoint was given, and not when one was', async () => {
    const r = await custos(['audit', 'verify']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^OK: \d+ events verified/);
    expect(r.stderr).toContain('no external checkpoint given (--against): truncation of events together with checkpoints cannot be detected');
    const cp = path.join(tmp, 'cp.txt');
    expect((await custos(['audit', 'checkpoint', '--output', cp])).code).toBe(0);
    const r2 = await custos(['audit', 'verify', '--against', cp]);
    expect(r2.code).toBe(0);
    expect(r2.stderr).not.toContain('no external checkpoint');
  });

  it('with the server down points to the store, and --data-dir verifies the store directly', async () => {
    const down = await custos(['audit', 'verify'], { env: { CUSTOS_SERVER: 'http://127.0.0.1:9' } });
    expect(down.code).toBe(3);
    expect(down.stderr).toContain('cannot reach');
    expect(down.stderr).toContain('custos audit verify --data-dir');
    const direct = await custos(['audit', 'verify', '--data-dir', h.dataDir], { env: { CUSTOS_SERVER: 'http://127.0.0.1:9' } });
    expect(direct.code).toBe(0);
    expect(direct.stdout).toMatch(/^OK: \d+ events verified/);
  });

  it('hash reads the value from stdin, computes it locally with the host key, and matches the server', async () => {
    const server = await custos(['--json', 'audit', 'hash', '--stdin'], { stdin: 'custos_op_secret\n' });
    expect(server.code).toBe(0);
    expect(JSON.parse(server.stdout)).toMatchObject({ computed: 'by the server' });
    const local = await custos(['--json', 'audit', 'hash', '--stdin', '--data-dir', h.dataDir], { stdin: 'custos_op_secret', env: { CUSTOS_SERVER: 'http://127.0.0.1:9' } });
    expect(local.code).toBe(0);
    expect(JSON.parse(local.stdout)).toEqual({ hmac: JSON.parse(server.stdout).hmac, computed: 'locally' });
    expect(JSON.parse(server.stdout).hmac).toBe(h.cp.audit.hmac('custos_op_secret'));
    // A value on the command line is refused (shell history, ps).
    const argv = await custos(['audit', 'hash', 'custos_op_secret']);
    expect(argv.code).toBe(2);
    expect((await custos(['audit', 'hash', '--stdin'], { stdin: '' })).code).toBe(2);
  });

  it('after a prune: counts pruned and stored events apart, and show of a pruned seq says pruned', async () => {
    const file = path.join(tmp, 'a.json');
    const a = await custos(['audit', 'archive', '--to-seq', '256', '--output', file, '--prune']);
    expect(a.code, a.stderr).toBe(0);
    await h.cp.checkpointer.checkpointNow();
    const r = await custos(['audit', 'verify']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/events verified: 256 pruned \(0\.\.255, from the archived tree state/);
    expect(r.stdout).toMatch(/and \d+ stored \(256\.\./);
    const d = await custos(['audit', 'verify', '--data-dir', h.dataDir]);
    expect(d.stdout).toContain('256 pruned');
    const show = await custos(['audit', 'show', '12']);
    expect(show.code).toBe(1);
    expect(show.stderr).toContain('pruned');
    expect(show.stderr).toContain('event_archived');
    expect(show.stderr).not.toContain('does not exist');
  });

  it('recover through the API after tampering: writes refused before, accepted after, the log verifies with the damage acknowledged', async () => {
    const seq = 400;
    await asAttacker(h.cp.db, (q) => q.updateTable('audit_events').set({ outcome: 'failure' }).where('seq', '=', seq).execute().then(() => undefined));
    expect(await h.cp.checkpointer.verifyAll()).toMatchObject({ kind: 'column-edited', first_bad_seq: seq });
    expect((await h.call('POST', '/v1/principals', { name: 'blocked', kind: 'human' })).status).toBe(503);
    const v = await custos(['audit', 'verify', '--data-dir', h.dataDir]);
    expect(v.code).toBe(1);
    expect(v.stdout).toContain(`first bad sequence number ${seq}`);
    // Through the API too: the export it reads is not refused (nothing can be recorded, and it says so).
    const api = await custos(['audit', 'verify']);
    expect(api.code, api.stderr).toBe(1);
    expect(api.stdout).toContain(`first bad sequence number ${seq}`);
    const exp = await fetch(`${url}/v1/audit/export?format=store&to_seq=1`, { headers: { authorization: `Bearer ${h.adminToken}` } });
    expect(exp.status).toBe(200);
    expect(exp.headers.get('x-audit-recorded')).toBe('false');
    await exp.text();
    const r = await custos(['audit', 'recover', '--reason', 'test: column edit']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`recovered: column-edited at seq ${seq}`);
    await h.cp.checkpointer.checkpointNow();
    expect((await h.call('POST', '/v1/principals', { name: 'unblocked', kind: 'human' })).status).toBe(201);
    await h.cp.checkpointer.checkpointNow();
    const after = await custos(['audit', 'verify', '--data-dir', h.dataDir]);
    expect(after.code).toBe(0);
    expect(after.stdout).toContain(`column-edited at seq ${seq} (acknowledged by the recovery at seq`);
  });
});
