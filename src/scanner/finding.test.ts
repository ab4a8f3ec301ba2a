import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecretHasher, lengthBucket, redact } from './finding.js';
import { loadScanKey, scanKeyPath } from './scan-key.js';
import { scanDirectory } from './scan.service.js';
import { toReportBody } from '../findings/index.js';
import { reportBody } from '../findings/index.js';
import { checksummedToken, fakeCustosToken, seeded } from './rules/fake.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const keyA = Buffer.alloc(32, 1);
const keyB = Buffer.alloc(32, 2);

describe('redaction and fingerprints are keyed', () => {
  it('a short password shows neither its exact length nor an unkeyed hash', () => {
    const shown = redact('hunter2', createSecretHasher(keyA));
    expect(shown).not.toContain('7 chars');
    expect(shown).toContain('<12 chars');
    expect(shown).not.toContain(sha256('hunter2').slice(0, 12));
    expect(shown).toMatch(/^…\[<12 chars, hmac:[0-9a-f]{12}\]$/);
  });
  it('lengths are shown as buckets below 32 characters, exactly from 32 on', () => {
    expect([5, 11, 12, 23, 24, 31, 32, 40].map(lengthBucket)).toEqual(['<12', '<12', '12-23', '12-23', '24-31', '24-31', '32', '40']);
  });
  it('the shown tag and the fingerprint depend on the key, and are stable for one key', () => {
    const a = createSecretHasher(keyA);
    const b = createSecretHasher(keyB);
    expect(a.fingerprint('generic-secret', 'hunter2')).toBe(createSecretHasher(Buffer.from(keyA)).fingerprint('generic-secret', 'hunter2'));
    expect(a.fingerprint('generic-secret', 'hunter2')).not.toBe(b.fingerprint('generic-secret', 'hunter2'));
    expect(a.fingerprint('generic-secret', 'hunter2')).toMatch(/^[0-9a-f]{32}$/);
    expect(a.fingerprint('generic-secret', 'hunter2')).not.toBe(a.fingerprint('jwt', 'hunter2'));
    expect(redact('hunter2', a)).not.toBe(redact('hunter2', b));
    // The old unkeyed v1 fingerprint is gone.
    const v1 = createHash('sha256').update('custos-scan-v1\0generic-secret\0').update(sha256('hunter2')).digest('hex').slice(0, 32);
    expect(a.fingerprint('generic-secret', 'hunter2')).not.toBe(v1);
  });
});

describe('the plain SHA-256 prefix is sent for Custos tokens only', () => {
  let dir: string;
  const rnd = seeded(99);
  const custos = fakeCustosToken('op', rnd);
  const ghp = checksummedToken('ghp_', rnd);
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'custos-hash-'));
    await writeFile(path.join(dir, 'a.env'), `CUSTOS_TOKEN=${custos}\nGITHUB_TOKEN=${ghp}\nDB_PASSWORD=Zq7mK2pL9xW4vN8rT3yH\n`);
  });
  afterAll(async () => { await rm(dir, { recursive: true, force: true }); });

  it('other findings carry no unkeyed hash anywhere; the report body still fits the server schema', async () => {
    const r = await scanDirectory(dir, { key: keyA });
    const byRule = new Map(r.findings.map((f) => [f.ruleId, f]));
    expect([...byRule.keys()].sort()).toEqual(['custos-operator-token', 'generic-secret-unquoted', 'github-token']);
    expect(byRule.get('custos-operator-token')!.secretHash).toBe(sha256(custos).slice(0, 16));
    expect(byRule.get('github-token')!.secretHash).toBeUndefined();
    const json = JSON.stringify(r);
    expect(json).not.toContain(sha256(ghp).slice(0, 12));
    expect(json).not.toContain(sha256('Zq7mK2pL9xW4vN8rT3yH').slice(0, 12));
    const body = reportBody.parse(JSON.parse(JSON.stringify(toReportBody(r, {}, 'test'))));
    const sent = new Map(body.findings.map((f) => [f.rule_id, f]));
    expect(sent.get('custos-operator-token')).toMatchObject({ secret_sha256_prefix: sha256(custos).slice(0, 16), credential: { kind: 'op' } });
    expect(sent.get('github-token')!.secret_sha256_prefix).toBeUndefined();
  });
});

describe('the installation scan key', () => {
  let home: string;
  beforeAll(async () => { home = await mkdtemp(path.join(tmpdir(), 'custos-key-')); });
  afterAll(async () => { await rm(home, { recursive: true, force: true }); });

  it('lives under the user config dir unless the flag or CUSTOS_SCAN_KEY_FILE says otherwise', () => {
    expect(scanKeyPath({ HOME: '/home/u' })).toBe('/home/u/.config/custos/scan-key');
    expect(scanKeyPath({ HOME: '/home/u', XDG_CONFIG_HOME: '/cfg' })).toBe('/cfg/custos/scan-key');
    expect(scanKeyPath({ HOME: '/home/u', CUSTOS_SCAN_KEY_FILE: '/k' })).toBe('/k');
    expect(scanKeyPath({ HOME: '/home/u', CUSTOS_SCAN_KEY_FILE: '/k' }, '/flag')).toBe('/flag');
  });
  it('is created on first use, 0600, and the same key is read afterwards', async () => {
    const env = { HOME: home };
    const k1 = await loadScanKey(env);
    const file = path.join(home, '.config/custos/scan-key');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await readFile(file, 'utf8')).trim()).toMatch(/^[0-9a-f]{64}$/);
    expect((await loadScanKey(env)).equals(k1)).toBe(true);
    expect(k1.length).toBe(32);
  });
  it('a key file that is not 64 hex characters is refused', async () => {
    const bad = path.join(home, 'bad-key');
    await writeFile(bad, 'hunter2\n');
    await expect(loadScanKey({ HOME: home }, bad)).rejects.toThrow(/scan key file .* must hold 64 hex characters/);
  });
});
