import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createControlPlane } from '../../src/app.js';
import { ConfigError, SETTINGS, loadConfig } from '../../src/platform/config.js';
import { createLogger } from '../../src/platform/logger.js';
import { SealedError, generateMasterKey } from '../../src/platform/keys.js';

const logger = createLogger('silent');
const made: string[] = [];
const tmp = () => { const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-boot-')); made.push(dir); return dir; };
afterAll(() => { for (const dir of made) fs.rmSync(dir, { recursive: true, force: true }); });
const mode = (p: string) => fs.statSync(p).mode & 0o777;

describe('first start and unsealing', () => {
  it('creates the data dir 0700, the master key 0600 and a bootstrap token 0600 whose hash alone is stored', async () => {
    const dir = path.join(tmp(), 'data');
    const cp = await createControlPlane(loadConfig({ dataDir: dir }, {}), { logger });
    const token = cp.bootstrap!.token;
    await cp.close();
    expect(mode(dir)).toBe(0o700);
    expect(mode(path.join(dir, 'master.key'))).toBe(0o600);
    expect(mode(path.join(dir, 'bootstrap-admin.token'))).toBe(0o600);
    expect(fs.readFileSync(path.join(dir, 'bootstrap-admin.token'), 'utf8').trim()).toBe(token);
    for (const f of fs.readdirSync(dir).filter((f) => f.startsWith('custos.db'))) {
      expect(fs.readFileSync(path.join(dir, f)).includes(Buffer.from(token)), f).toBe(false);
    }
  });

  it('starts again with its key and does not mint a second bootstrap token', async () => {
    const dir = tmp();
    await (await createControlPlane(loadConfig({ dataDir: dir }, {}), { logger })).close();
    const again = await createControlPlane(loadConfig({ dataDir: dir }, {}), { logger });
    expect(again.bootstrap).toBeUndefined();
    await again.close();
  });

  it('refuses to start (sealed) when the master key file is missing, and does not start empty', async () => {
    const dir = tmp();
    await (await createControlPlane(loadConfig({ dataDir: dir }, {}), { logger })).close();
    fs.rmSync(path.join(dir, 'master.key'));
    await expect(createControlPlane(loadConfig({ dataDir: dir }, {}), { logger })).rejects.toThrow(SealedError);
    expect(fs.existsSync(path.join(dir, 'master.key'))).toBe(false);
  });

  it('refuses to start (sealed) with a wrong master key from the environment', async () => {
    const dir = tmp();
    const key = generateMasterKey().toString('base64');
    await (await createControlPlane(loadConfig({ dataDir: dir }, { CUSTOS_MASTER_KEY: key }), { logger })).close();
    expect(fs.existsSync(path.join(dir, 'master.key'))).toBe(false);
    const wrong = generateMasterKey().toString('base64');
    await expect(createControlPlane(loadConfig({ dataDir: dir }, { CUSTOS_MASTER_KEY: wrong }), { logger })).rejects.toThrow(/does not match/);
    const right = await createControlPlane(loadConfig({ dataDir: dir }, { CUSTOS_MASTER_KEY: key }), { logger });
    await right.close();
  });

  it('rejects a malformed master key with a clear message', async () => {
    await expect(createControlPlane(loadConfig({ dataDir: tmp() }, { CUSTOS_MASTER_KEY: 'short' }), { logger })).rejects.toThrow(/32 random bytes/);
  });
});

describe('configuration', () => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ CUSTOS_PORT: '70000' }, /--port \/ CUSTOS_PORT/],
    [{ CUSTOS_PORT: '8o8o' }, /--port/],
    [{ CUSTOS_LOG_LEVEL: 'loud' }, /--log-level/],
    [{ CUSTOS_DATABASE_URL: 'mysql://x@y/z' }, /only postgres/],
    [{ CUSTOS_CHECKPOINT_INTERVAL_MS: '5' }, /--checkpoint-interval-ms/],
    [{ CUSTOS_CHECKPOINT_SINKS: 'ftp://x' }, /--checkpoint-sink/],
    [{ CUSTOS_AUTO_REVOKE_LEAKED: 'maybe' }, /--auto-revoke-leaked/],
    [{ CUSTOS_HOST: 'bad host!' }, /--host/],
  ];
  it.each(cases)('rejects %o with one line naming the setting', (env, message) => {
    try {
      loadConfig({}, env);
      expect.fail('accepted a bad value');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toContain('\n');
    }
  });

  it('never echoes a database password in an error', () => {
    expect(() => loadConfig({ databaseUrl: 'mysql://admin:hunter2@db/x' }, {})).toThrow(/admin:\*\*\*@/); // custos:allow (a made-up password the redaction test hides)
    expect(() => loadConfig({ databaseUrl: 'mysql://admin:hunter2@db/x' }, {})).not.toThrow(/hunter2/); // custos:allow
  });

  it('lets flags win over the environment', () => {
    expect(loadConfig({ port: '9001' }, { CUSTOS_PORT: '9002' }).port).toBe(9001);
    expect(loadConfig({}, { CUSTOS_PORT: '9002' }).port).toBe(9002);
    expect(loadConfig({}, {}).port).toBe(8080);
  });

  it('documents every setting in the README table', () => {
    const readme = fs.readFileSync(path.resolve(import.meta.dirname, '../../README.md'), 'utf8');
    for (const s of SETTINGS) {
      expect(readme, s.flag).toContain(`\`${s.flag}\``);
      expect(readme, s.env).toContain(`\`${s.env}\``);
    }
  });
});
