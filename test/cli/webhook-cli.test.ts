import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backoffSeconds, MAX_ATTEMPTS } from '../../src/approvals/webhooks/delivery-rules.js';
import { collectEvents, registerWebhookCommands } from '../../src/cli/commands/webhook.js';
import type { CliIo } from '../../src/cli/output.js';
import { runCustos, type CliResult } from '../support/cli-process.js';
import { startHarness, type Harness } from '../support/harness.js';

// `custos webhook add|list|show|update|test|deliveries|retry|remove` as a user runs them: the built CLI in its own
// process against a real server, delivering to a local receiver that checks each signature with the secret the
// CLI printed. The server's listener only (not its timers), so the test's clock and deliverDue decide retries.

let h: Harness;
let url: string;
let hookUrl: string;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-webhook-cli-'));
const secrets = new Map<string, string>();
const answers = new Map<string, number[]>();
const received: Array<{ path: string; body: string; verified: boolean }> = [];
const receiver = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(String(req.headers['custos-signature'] ?? ''));
    const secret = secrets.get(req.url!);
    const verified = Boolean(m && secret && crypto.timingSafeEqual(Buffer.from(m[2]!, 'hex'), crypto.createHmac('sha256', secret).update(`${m[1]}.${body}`).digest())
      && Math.abs(Number(m[1]) - h.clock.now().getTime() / 1000) <= 300);
    received.push({ path: req.url!, body, verified });
    res.writeHead(answers.get(req.url!)?.shift() ?? 200).end();
  });
});

async function custos(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return runCustos(args, { CUSTOS_SERVER: url, CUSTOS_TOKEN: h.adminToken, CUSTOS_DATA_DIR: '/nonexistent', ...env });
}

beforeAll(async () => {
  h = await startHarness('sqlite');
  url = await h.cp.http.listen({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await h?.close();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('custos webhook', () => {
  it('every command describes every option and shows an example', async () => {
    const sink = new Writable({ write(_c, _e, done) { done(); } });
    const io: CliIo = { stdout: sink, stderr: sink, stdoutIsTTY: false, env: {} };
    const program = new Command('custos');
    registerWebhookCommands(program, io);
    const commands = program.commands.flatMap((c) => [c, ...c.commands]);
    expect(commands.flatMap((c) => c.options.filter((o) => !o.description).map((o) => `${c.name()} ${o.flags}`))).toEqual([]);
    for (const sub of ['', 'add', 'list', 'show', 'update', 'remove', 'test', 'deliveries', 'retry']) {
      const r = await custos(['webhook', ...(sub ? [sub] : []), '--help']);
      expect(r.code, sub).toBe(0);
      expect(r.stdout, sub).toMatch(/\nExamples?:\n {2}custos /);
    }
  });

  it('usage errors exit 2 before any request (the server here is unreachable)', async () => {
    const env = { CUSTOS_SERVER: 'http://127.0.0.1:9' };
    const short = path.join(tmp, 'short.secret');
    fs.writeFileSync(short, 'too-short\n');
    for (const args of [
      ['webhook', 'add', 'x', '--url', 'https://x.example.com', '--event', 'request.nope'],
      ['webhook', 'add', 'x', '--url', 'https://x.example.com', '--format', 'xml'],
      ['webhook', 'add', 'x', '--url', 'https://x.example.com', '--secret-file', short],
      ['webhook', 'add', 'x', '--url', 'https://x.example.com', '--secret-file', path.join(tmp, 'missing')],
      ['webhook', 'add', 'x'],
      ['webhook', 'update', 'x'],
      ['webhook', 'update', 'x', '--enable', '--disable'],
      ['webhook', 'deliveries', 'x', '--status', 'lost'],
      ['webhook', 'retry', 'x', 'not-an-id'],
    ]) {
      const r = await custos(args, env);
      expect([r.code, r.stderr.includes('cannot reach')], args.join(' ')).toEqual([2, false]);
    }
    expect(collectEvents('request.created, review.due')).toEqual(['request.created', 'review.due']);
  });

  it('add prints the secret once and alone; list and show never do; test delivers a signed event', async () => {
    const added = await custos(['webhook', 'add', 'siem', '--url', `${hookUrl}/siem`, '--event', 'request.created,grant.revoked', '--reason', 'SOC']);
    expect(added.code, added.stderr).toBe(0);
    const secret = added.stdout.trim();
    expect(added.stdout).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
    expect(added.stderr).toMatch(/webhook 'siem' \(http:\/\/127\.0\.0\.1:\d+\/siem, events: request\.created,grant\.revoked, format json\)\. The secret above is shown only this once/);
    secrets.set('/siem', secret);

    const list = await custos(['webhook', 'list']);
    expect(list.stdout).toMatch(/siem +│ +http:\/\/127\.0\.0\.1:\d+\/siem +│ +request\.created,grant\.revoked +│ +json +│ +yes +│ +0 +│ +0/);
    const shown = await custos(['webhook', 'show', 'siem']);
    expect(shown.stdout).toMatch(/events +request\.created,grant\.revoked/);
    const json = JSON.parse((await custos(['--json', 'webhook', 'show', 'siem'])).stdout);
    expect(json).toMatchObject({ name: 'siem', format: 'json', enabled: true });
    for (const out of [list.stdout, shown.stdout, JSON.stringify(json)]) expect(out).not.toContain(secret);

    const tested = await custos(['webhook', 'test', 'siem']);
    expect(tested.code, tested.stderr).toBe(0);
    expect(tested.stdout).toMatch(/^test event [0-9a-f-]{36} to 'siem': delivered \(200\) after 1 attempt\n$/);
    expect(received.filter((r) => r.path === '/siem').map((r) => [r.verified, JSON.parse(r.body).type])).toEqual([[true, 'webhook.test']]);

    const refused = await custos(['webhook', 'add', 'plain', '--url', 'http://example.com/hook']);
    expect([refused.code, /invalid_webhook_url|https/.test(refused.stderr)]).toEqual([1, true]);
  });

  it('a given secret from a file; a failing receiver: test exits 1, deliveries show the retries, dead, retry', async () => {
    const file = path.join(tmp, 'own.secret');
    const own = `own-${'s'.repeat(40)}`;
    fs.writeFileSync(file, `${own}\n`);
    const added = await custos(['webhook', 'add', 'ops', '--url', `${hookUrl}/ops`, '--format', 'slack', '--secret-file', file]);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout.trim()).toBe(own);
    secrets.set('/ops', own);
    answers.set('/ops', Array.from({ length: MAX_ATTEMPTS }, () => 500));

    const tested = await custos(['webhook', 'test', 'ops']);
    expect(tested.code).toBe(1);
    expect(tested.stdout).toMatch(/not delivered yet \(the receiver answered 500\); next attempt at \S+Z/);
    expect(tested.stderr).toMatch(/was not delivered; see custos webhook deliveries ops/);
    for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt++) {
      h.clock.advance(backoffSeconds(attempt) * 1000);
      await h.cp.approvals.deliverDue();
    }
    const dead = await custos(['webhook', 'deliveries', 'ops', '--status', 'dead']);
    expect(dead.stdout).toMatch(new RegExp(`webhook\\.test +│ +dead +│ +${MAX_ATTEMPTS} +│ +500 +│ +│ +the receiver answered 500`));
    const id = /([0-9a-f]{8}-[0-9a-f-]{27})/.exec(dead.stdout)![1]!;
    expect((await custos(['webhook', 'list'])).stdout).toMatch(/ops .*│ +slack +│ +yes +│ +0 +│ +1/);

    const retried = await custos(['webhook', 'retry', 'ops', id, '--reason', 'receiver fixed']);
    expect(retried.stdout).toBe(`delivery ${id} (webhook.test) is pending again\n`);
    await h.cp.approvals.deliverDue();
    const log = JSON.parse((await custos(['--json', 'webhook', 'deliveries', 'ops'])).stdout);
    expect(log.items.map((d: { status: string; attempts: number }) => [d.status, d.attempts])).toEqual([['delivered', 1]]);
    const got = received.filter((r) => r.path === '/ops');
    expect(got).toHaveLength(MAX_ATTEMPTS + 1);
    expect(got.every((r) => r.verified)).toBe(true);
    expect(JSON.parse(got[0]!.body).text).toMatch(/^Test delivery from Custos/);
    const again = await custos(['webhook', 'retry', 'ops', id]);
    expect([again.code, /delivered/.test(again.stderr)]).toEqual([1, true]);
  });

  it('update: events, state and a rotated secret (printed once); remove', async () => {
    const updated = await custos(['webhook', 'update', 'siem', '--all-events', '--disable', '--reason', 'maintenance']);
    expect(updated.stdout).toMatch(/^updated webhook 'siem': http:\/\/127\.0\.0\.1:\d+\/siem, events: all, format json, disabled\n$/);
    const rotated = await custos(['webhook', 'update', 'siem', '--rotate-secret', '--enable']);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stdout).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
    expect(rotated.stdout.trim()).not.toBe(secrets.get('/siem'));
    expect(rotated.stderr).toMatch(/new secret for webhook 'siem'/);
    secrets.set('/siem', rotated.stdout.trim());
    expect((await custos(['webhook', 'test', 'siem'])).code).toBe(0);
    expect(received.filter((r) => r.path === '/siem').at(-1)!.verified).toBe(true);

    const removed = await custos(['webhook', 'remove', 'siem', '--reason', 'replaced']);
    expect(removed.stdout).toBe("removed webhook 'siem' and its delivery log\n");
    const gone = await custos(['webhook', 'show', 'siem']);
    expect([gone.code, /not_found|does not exist/.test(gone.stderr)]).toEqual([1, true]);
  });
});
