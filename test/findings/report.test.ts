import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toReportBody } from '../../src/findings/report-body.js';
import { scanDirectory } from '../../src/scanner/index.js';
import { BACKENDS, postgresReachable } from '../support/backends.js';
import { startHarness, type Harness } from '../support/harness.js';

// A leaked Custos operator token found by a real scan is revoked at once, recorded, and linked to its owner.

async function scanText(text: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-leak-'));
  fs.writeFileSync(path.join(dir, 'config.env'), text);
  try {
    return await scanDirectory(dir, { gitignore: false });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

for (const backend of BACKENDS) {
  describe(`findings and automatic revocation on ${backend}`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    let h: Harness;
    let security: string;
    beforeAll(async () => {
      if (!enabled) return;
      h = await startHarness(backend);
      security = await h.operator('sec-ops', 'security');
    });
    afterAll(async () => { await h?.close(); });

    it.runIf(enabled)('revokes a live leaked operator token, links it to its owner and audits it', async () => {
      const victim = await h.operator('leaky-dev', 'auditor');
      expect((await h.call('GET', '/v1/whoami', undefined, victim)).status).toBe(200);
      const result = await scanText(`CUSTOS_TOKEN=${victim}\n`);
      const finding = result.findings.find((f) => f.credential);
      expect(finding?.credential?.kind).toBe('op');

      const body = toReportBody(result, { publicRepo: true }, 'test');
      expect(JSON.stringify(body)).not.toContain(victim);
      const res = await h.call('POST', '/v1/findings/report', body, security);
      expect(res.status).toBe(200);
      expect(res.body.revoked).toHaveLength(1);
      const stored = res.body.findings.find((f: { credential: unknown }) => f.credential);
      expect(stored.status).toBe('revoked');
      expect(stored.liveness).toBe('revoked');
      const owner = await h.call('GET', '/v1/principals/leaky-dev');
      expect(stored.credential.owner_id).toBe(owner.body.id);

      expect((await h.call('GET', '/v1/whoami', undefined, victim)).status).toBe(401);
      const events = await h.call('GET', `/v1/audit/events?type=credential.operator_token.revoked&target=${finding!.credential!.id}`);
      expect(events.body.items).toHaveLength(1);
      expect(events.body.items[0].details.reason).toMatch(/leaked/);
      expect(JSON.stringify(events.body)).not.toContain(victim);
    });

    it.runIf(enabled)('deduplicates by fingerprint across reports', async () => {
      const result = await scanText('OPENAI_API_KEY=sk-proj-' + 'A1b2C3d4E5f6G7h8I9j0'.repeat(4) + 'T3BlbkFJ' + 'K1l2M3n4O5p6Q7r8S9t0'.repeat(4) + '\n');
      if (result.findings.length === 0) return expect.fail('the scanner found no OpenAI key in the fixture');
      const first = await h.call('POST', '/v1/findings/report', toReportBody(result, {}, 'test'), security);
      const second = await h.call('POST', '/v1/findings/report', toReportBody(result, {}, 'test'), security);
      expect(first.body.created).toBe(result.findings.length);
      expect(second.body.created).toBe(0);
      expect(second.body.updated).toBe(result.findings.length);
      expect(second.body.findings[0].locations_seen).toBe(2);
    });

    it.runIf(enabled)('does not revoke on an id alone: the hash prefix must match the stored token', async () => {
      const victim = await h.operator('careful-dev', 'auditor');
      const result = await scanText(`token: ${victim}\n`);
      const body = toReportBody(result, {}, 'test');
      for (const f of body.findings) if (f.credential) f.secret_sha256_prefix = '0'.repeat(16);
      const res = await h.call('POST', '/v1/findings/report', body, security);
      expect(res.body.revoked).toHaveLength(0);
      expect((await h.call('GET', '/v1/whoami', undefined, victim)).status).toBe(200);
    });

    it.runIf(enabled)('lets an operator move a finding through its statuses, never to revoked by hand', async () => {
      const list = await h.call('GET', '/v1/findings?status=open', undefined, security);
      const id = list.body.items[0].id as string;
      expect((await h.call('PATCH', `/v1/findings/${id}`, { status: 'revoked' }, security)).body.code).toBe('invalid_transition');
      const ok = await h.call('PATCH', `/v1/findings/${id}`, { status: 'rotated', note: 'rotated in vault' }, security);
      expect(ok.status).toBe(200);
      expect(ok.body.status).toBe('rotated');
    });

    it.runIf(enabled)('refuses reports from roles without finding.write', async () => {
      const auditor = await h.operator('audit-person', 'auditor');
      const res = await h.call('POST', '/v1/findings/report', toReportBody(await scanText('nothing here\n'), {}, 'test'), auditor);
      expect(res.status).toBe(403);
    });
  });
}

describe('scan reports carry foreign text', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness('sqlite'); });
  afterAll(async () => { await h?.close(); });

  it('a file name with control characters is accepted as found; a lone surrogate is still refused', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-foreign-'));
    const name = 'evil\u001b[31m.env';
    fs.writeFileSync(path.join(dir, name), 'OPENAI_API_KEY=sk-proj-' + 'Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z'.repeat(2) + 'T3BlbkFJ' + 'Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z'.repeat(2) + '\n');
    try {
      const result = await scanDirectory(dir, { gitignore: false });
      expect(result.findings.length).toBeGreaterThan(0);
      const body = toReportBody(result, {}, 'test');
      const res = await h.call('POST', '/v1/findings/report', body);
      expect(res.status, res.text).toBeLessThan(300);
      const bad = await h.call('POST', '/v1/findings/report', { ...body, target: 'x\udfff' });
      expect([bad.status, bad.body.code]).toEqual([400, 'validation_failed']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
