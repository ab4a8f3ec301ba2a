import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommands } from '../program.js';
import type { CliIo } from '../output.js';
import { durationArg } from './credential.js';

// `custos credential list|revoke` against a stand-in server that records what the CLI asked: the query and body
// it builds from the options, usage errors before any request, tables for people and JSON for scripts.

const requests: Array<{ method: string; url: string; body: unknown }> = [];
let server: http.Server;
let url: string;

const item = {
  id: '0195f3c2-7a41-7c3e-9d2a-3b1f0e6a9c11', kind: 'access_token', principal: { id: 'p1', name: 'triage-agent' },
  created_at: '2026-03-01T12:00:00.000Z', expires_at: '2026-03-01T12:15:00.000Z', last_used_at: null, revoked_at: null,
  details: { scope: ['model:invoke'], purpose: 'support', act_chain: [] },
};

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (c) => { text += c; });
    req.on('end', () => {
      requests.push({ method: req.method!, url: req.url!, body: text ? JSON.parse(text) : undefined });
      res.setHeader('content-type', 'application/json');
      if (req.url!.startsWith('/v1/credentials/revoke')) {
        res.end(JSON.stringify({ target: { kind: 'principal', id: 'p1' }, revoked_at: 'now', already_revoked: false, not_before: '2026-03-01T12:00:00.000Z', cascade: ['a', 'b'] }));
      } else res.end(JSON.stringify({ items: [item], next_cursor: null }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

async function custos(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const sink = (f: (s: string) => void) => ({ write: (s: string) => { f(s); return true; } }) as unknown as NodeJS.WritableStream;
  const io: CliIo = { stdout: sink((s) => { out += s; }), stderr: sink((s) => { err += s; }), stdoutIsTTY: false, env: { CUSTOS_SERVER: url, CUSTOS_TOKEN: 'custos_op_test' } };
  const code = await runCommands(args, io);
  return { code, out, err };
}

describe('custos credential', () => {
  it('list turns its options into the inventory query and prints a table', async () => {
    requests.length = 0;
    const r = await custos('credential', 'list', '--principal', 'triage-agent', '--kind', 'access_token', '--expiring-within', '1h', '--sort', 'expires_at');
    expect(r.code).toBe(0);
    const q = new URL(requests[0]!.url, url).searchParams;
    expect(Object.fromEntries(q)).toEqual({ principal: 'triage-agent', kind: 'access_token', state: 'expiring', expiring_within: '1h', sort: 'expires_at' });
    expect(r.out).toMatch(/0195f3c2-7a41-7c3e-9d2a-3b1f0e6a9c11.*access_token.*triage-agent/s);
    expect(r.out).toContain('model:invoke for support');
    const never = await custos('--json', 'credential', 'list', '--never-used');
    expect(new URL(requests[1]!.url, url).searchParams.get('state')).toBe('never_used');
    expect(JSON.parse(never.out).items[0].id).toBe(item.id);
  });

  it('revoke sends exactly one target with the reason', async () => {
    requests.length = 0;
    const r = await custos('credential', 'revoke', '--principal', 'triage-agent', '--reason', 'incident 42');
    expect(r.code).toBe(0);
    expect(requests[0]).toMatchObject({ method: 'POST', url: '/v1/credentials/revoke', body: { principal: 'triage-agent', reason: 'incident 42' } });
    expect(r.out).toMatch(/revoked principal p1; access tokens revoked with it: 2; every token issued up to 2026-03-01T12:00:00.000Z is dead/);
    await custos('credential', 'revoke', '--jti', 'j1');
    await custos('credential', 'revoke', '--family', 'f1');
    await custos('credential', 'revoke', '--credential', 'c1');
    expect(requests.slice(1).map((x) => x.body)).toEqual([{ jti: 'j1' }, { family: 'f1' }, { credential_id: 'c1' }]);
  });

  it('usage errors exit 2 before any request', async () => {
    requests.length = 0;
    for (const args of [
      ['credential', 'revoke'], ['credential', 'revoke', '--jti', 'a', '--family', 'b'], ['credential', 'list', '--expiring-within', 'soon'],
      ['credential', 'list', '--kind', 'password'], ['credential', 'list', '--never-used', '--expiring-within', '1h'],
    ]) expect((await custos(...args)).code, args.join(' ')).toBe(2);
    expect(requests).toEqual([]);
  });

  it('durations: seconds or a number with s, m, h or d, never zero', () => {
    expect(['90', '90s', '15m', '1h', '7d'].map(durationArg)).toEqual(['90', '90s', '15m', '1h', '7d']);
    for (const bad of ['0', '0h', '1w', '-1h', '1.5h', '']) expect(() => durationArg(bad), bad).toThrow();
  });
});
