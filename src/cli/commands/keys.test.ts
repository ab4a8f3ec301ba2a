import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerSigningKeyRoutes } from '../../credentials/signing-keys.routes.js';
import type { SigningKeyView } from '../../credentials/signing-keys.schemas.js';
import type { SigningKeyService } from '../../credentials/signing-keys.service.js';
import { operatorActor } from '../../platform/actor.js';
import { createHttpApp, type HttpApp } from '../../platform/http/app.js';
import { errors } from '../../platform/http/errors.js';
import { createLogger } from '../../platform/logger.js';
import type { CliIo } from '../output.js';
import { allCommands, buildProgram, runCommands } from '../program.js';

// custos keys list / rotate against the real routes over HTTP (the key store behind them is a stub: the store has
// its own tests): tables for people, --json for scripts, the reason sent along, help with examples.

const KEYS: SigningKeyView[] = [
  { kid: 'kid-new', alg: 'EdDSA', status: 'active', created_at: '2026-04-02T00:00:00.000Z', rotate_at: '2026-05-02T00:00:00.000Z', deactivated_at: null, verify_until: null, retired_at: null },
  { kid: 'kid-old', alg: 'EdDSA', status: 'retiring', created_at: '2026-03-01T00:00:00.000Z', rotate_at: '2026-03-31T00:00:00.000Z', deactivated_at: '2026-04-02T00:00:00.000Z', verify_until: '2026-04-02T01:00:30.000Z', retired_at: null },
];

function captured(env: Record<string, string>): { io: CliIo; out: () => string; err: () => string } {
  const out: string[] = [];
  const err: string[] = [];
  const io = {
    stdout: { write: (s: string) => { out.push(s); return true; } },
    stderr: { write: (s: string) => { err.push(s); return true; } },
    stdoutIsTTY: false,
    env,
  } as unknown as CliIo;
  return { io, out: () => out.join(''), err: () => err.join('') };
}

describe('custos keys', () => {
  let app: HttpApp;
  let env: Record<string, string>;
  const reasons: Array<string | undefined> = [];

  beforeAll(async () => {
    const store = {
      list: async () => KEYS,
      rotate: async (_actor: unknown, reason?: string) => { reasons.push(reason); return { kid: 'kid-newer', retiring: ['kid-new', 'kid-old'] }; },
      jwks: async () => ({ keys: [] }),
    } as unknown as SigningKeyService;
    app = await createHttpApp({
      logger: createLogger('silent'), version: 'test',
      pipeline: async (req) => {
        if (req.headers.authorization !== 'Bearer custos_op_test') throw errors.unauthenticated();
        return operatorActor({ principal: { id: 'p', name: 'ops', kind: 'human', status: 'active', ownerId: null }, credentialId: 'c', role: 'admin', teamIds: [], provenance: { sourceIp: null, requestId: null, traceId: null, userAgent: null, via: 'direct' } });
      },
    });
    registerSigningKeyRoutes(app, store);
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    env = { CUSTOS_SERVER: url, CUSTOS_TOKEN: 'custos_op_test', CUSTOS_DATA_DIR: '/nonexistent' };
  });
  afterAll(async () => { await app?.close(); });

  it('has list and rotate, each described with every option and an example', async () => {
    const verbs = allCommands(buildProgram(captured({}).io)).filter((c) => c.parent?.name() === 'keys');
    expect(verbs.map((c) => c.name()).sort()).toEqual(['list', 'rotate']);
    for (const verb of verbs) {
      expect(verb.description(), verb.name()).not.toBe('');
      expect(verb.options.filter((o) => !o.description).map((o) => o.flags), verb.name()).toEqual([]);
      const c = captured({});
      expect(await runCommands(['keys', verb.name(), '--help'], c.io)).toBe(0);
      expect(c.out(), verb.name()).toMatch(/\nExamples?:\n {2}custos keys /);
    }
  });

  it('lists keys as a table and as JSON', async () => {
    const table = captured(env);
    expect(await runCommands(['keys', 'list'], table.io)).toBe(0);
    expect(table.out()).toMatch(/KID\s+│\s+ALG\s+│\s+STATUS/);
    expect(table.out()).toMatch(/kid-new\s+│\s+EdDSA\s+│\s+active\s+│\s+2026-04-02T00:00:00.000Z\s+│\s+2026-05-02T00:00:00.000Z/);
    expect(table.out()).toMatch(/kid-old\s+│\s+EdDSA\s+│\s+retiring\s+│\s+2026-03-01T00:00:00.000Z\s+│\s+│\s+2026-04-02T01:00:30.000Z/);
    const json = captured(env);
    expect(await runCommands(['--json', 'keys', 'list'], json.io)).toBe(0);
    expect(JSON.parse(json.out())).toEqual({ items: KEYS });
  });

  it('rotates with a reason, and says which keys keep verifying', async () => {
    const c = captured(env);
    expect(await runCommands(['keys', 'rotate', '--reason', 'drill'], c.io)).toBe(0);
    expect(c.out()).toBe('new signing key kid-newer\nretiring kid-new (verifies the tokens it signed until they expire)\nretiring kid-old (verifies the tokens it signed until they expire)\n');
    const json = captured(env);
    expect(await runCommands(['keys', 'rotate', '--json'], json.io)).toBe(0);
    expect(JSON.parse(json.out())).toEqual({ kid: 'kid-newer', retiring: ['kid-new', 'kid-old'] });
    expect(reasons).toEqual(['drill', undefined]);
  });

  it('exits 3 without a valid token', async () => {
    const c = captured({ ...env, CUSTOS_TOKEN: 'custos_op_wrong' });
    expect(await runCommands(['keys', 'list'], c.io)).toBe(3);
  });
});
