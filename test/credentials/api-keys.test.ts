import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApiKeyIssuer } from '../../src/credentials/api-key-issuer.js';
import { registerApiKeyRoutes } from '../../src/credentials/api-keys.routes.js';
import { createApiKeyService, type ApiKeyService } from '../../src/credentials/api-keys.service.js';
import type { AudienceResource, CredentialDirectory, CredentialPrincipal } from '../../src/credentials/contracts.js';
import type { CredentialIssuer } from '../../src/credentials/verifier.js';
import { createLeakRevoker } from '../../src/credentials/leaks.js';
import { createFindingService, toReportBody } from '../../src/findings/index.js';
import { createIdentityDirectory } from '../../src/identity/index.js';
import { createOperatorTokenService } from '../../src/operators/index.js';
import { NO_PROVENANCE, operatorActor, type Actor, type OperatorRole } from '../../src/platform/actor.js';
import { formatCustosToken, generateCustosToken, hashCustosToken, parseCustosToken } from '../../src/platform/credential-format.js';
import { createHttpApp } from '../../src/platform/http/app.js';
import { AppError } from '../../src/platform/http/errors.js';
import { isUuid, newId } from '../../src/platform/ids.js';
import { createLogger } from '../../src/platform/logger.js';
import type { Database, Trx } from '../../src/platform/store/db.js';
import { scanDirectory } from '../../src/scanner/index.js';
import { VERSION } from '../../src/version.js';
import { BACKENDS, postgresReachable } from '../support/backends.js';
import { startHarness, type Harness } from '../support/harness.js';

// API keys end to end over a real store on both backends: shown once and stored as a hash, the binding rules
// (tier caps, scope, purpose, audience), rotation's overlap, revocation, owner-role scoping, the issuer the one
// verifier dispatches `ak` keys to, and the leaked-key loop (a key found by a real scan and reported is revoked
// at once, in the report's transaction).

const ISSUER = 'http://127.0.0.1:8080';
const HOUR = 3600;
const DAY = 86_400;

/**
 * The credentials module's view of identity, read straight from the store so these tests do not depend on
 * identity's own implementation of the contract (which the composition root passes in).
 */
function storeDirectory(db: Database): CredentialDirectory {
  const identity = createIdentityDirectory({ db });
  return {
    async principal(ref: string, trx?: Trx): Promise<CredentialPrincipal | undefined> {
      const q = trx ?? db.kysely;
      const row = await q.selectFrom('principals').selectAll().where(isUuid(ref) ? 'id' : 'name', '=', ref).executeTakeFirst();
      if (!row) return undefined;
      const teams = await q.selectFrom('team_members').select('team_id').where('principal_id', '=', row.id).execute();
      return {
        id: row.id, name: row.name, kind: row.kind, status: row.status, ownerId: row.owner_principal_id, ownerTeamId: row.owner_team_id,
        scopes: JSON.parse(row.scopes), purposes: JSON.parse(row.purposes), riskTier: row.risk_tier as CredentialPrincipal['riskTier'],
        mayDelegateTo: JSON.parse(row.may_delegate_to), dataCeiling: row.data_ceiling, teamIds: teams.map((t) => t.team_id),
      };
    },
    async resourceByIndicator(indicator: string, trx?: Trx): Promise<AudienceResource | undefined> {
      const q = trx ?? db.kysely;
      const name = indicator.startsWith('urn:custos:resource:') ? indicator.slice('urn:custos:resource:'.length) : indicator;
      const row = await q.selectFrom('resources').selectAll()
        .where((eb) => eb.or([eb('uri', '=', indicator), eb('name', '=', name)])).executeTakeFirst();
      if (!row) return undefined;
      return {
        id: row.id, name: row.name, kind: row.kind, audience: row.uri ?? `urn:custos:resource:${row.name}`,
        purposes: JSON.parse(row.purposes), classification: row.classification, serverPrincipalId: row.server_principal_id,
      };
    },
    principalNames: (ids, trx) => identity.principalNames(ids, trx),
  };
}

async function codeOf(p: Promise<unknown>): Promise<{ code: string; extensions: Record<string, unknown> } | undefined> {
  try {
    await p;
  } catch (error) {
    if (error instanceof AppError) return { code: error.code, extensions: error.extensions };
    throw error;
  }
  return undefined;
}

async function scanText(text: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-ak-leak-'));
  fs.writeFileSync(path.join(dir, 'client.env'), text);
  try {
    return await scanDirectory(dir, { gitignore: false });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex');

for (const backend of BACKENDS) {
  describe(`API keys on ${backend}`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    let h: Harness;
    let keys: ApiKeyService;
    let issuer: CredentialIssuer;
    let admin: Actor;
    let owner: Actor;
    let ownerTeamId: string;
    let hookCalls: Array<{ trx: Trx; credentialId: string; reason: string }>;
    let hookFails = false;
    let n = 0;
    const uniq = (p: string) => `${p}-${++n}`;

    async function operator(name: string, role: OperatorRole): Promise<Actor> {
      await h.operator(name, role);
      const p = (await createIdentityDirectory({ db: h.cp.db }).principalWithTeams((await h.call('GET', `/v1/principals/${name}`)).body.id))!;
      return operatorActor({ principal: p.principal, credentialId: 'test', role, teamIds: p.teamIds, provenance: NO_PROVENANCE });
    }

    async function agent(fields: Record<string, unknown> = {}): Promise<string> {
      const name = uniq('agent');
      // High and critical agents become active only through a registration request: register it low, then raise it.
      const { risk_tier: tier, ...rest } = fields;
      const r = await h.call('POST', '/v1/principals', {
        name, kind: 'agent', owner: 'key-owner', status: 'active', scopes: ['model:invoke', 'tools:read'], purposes: ['support'], risk_tier: 'low', ...rest,
      });
      if (r.status !== 201) throw new Error(r.text);
      if (tier !== undefined) {
        const u = await h.call('PATCH', `/v1/principals/${name}`, { risk_tier: tier });
        if (u.status !== 200) throw new Error(u.text);
      }
      return name;
    }

    async function events(type: string, target: string): Promise<any[]> {
      return (await h.call('GET', `/v1/audit/events?type=${type}&target=${target}`)).body.items;
    }

    async function row(id: string) {
      return h.cp.db.kysely.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    }

    async function refusal(token: string): Promise<string> {
      try {
        await issuer.authenticate(token, NO_PROVENANCE);
      } catch (error) {
        expect(error).toBeInstanceOf(AppError);
        expect((error as AppError).code).toBe('unauthenticated');
        const failed = await h.cp.db.kysely.selectFrom('audit_events').selectAll().where('type', '=', 'auth.failed').orderBy('seq', 'desc').limit(1).executeTakeFirstOrThrow();
        if (token) {
          expect((error as AppError).message).not.toContain(token);
          expect(JSON.stringify(failed)).not.toContain(token);
        }
        return (JSON.parse(failed.canonical) as { reasons: string[] }).reasons[0]!;
      }
      throw new Error('the key was accepted');
    }

    beforeAll(async () => {
      if (!enabled) return;
      h = await startHarness(backend);
      const db = h.cp.db;
      keys = createApiKeyService({
        db, audit: h.cp.audit, clock: h.clock, directory: storeDirectory(db), issuer: ISSUER,
        onCredentialRevoked: async (trx, _batch, _actor, credentialId, reason) => {
          if (hookFails) throw new Error('revocation list unavailable');
          hookCalls.push({ trx, credentialId, reason });
        },
      });
      const identity = createIdentityDirectory({ db });
      issuer = createApiKeyIssuer({ db, audit: h.cp.audit, clock: h.clock, principals: (id) => identity.principalWithTeams(id) });
      admin = await operator('key-admin', 'admin');
      owner = await operator('key-owner', 'owner');
      ownerTeamId = (await h.call('POST', '/v1/teams', { name: 'key-owners' })).body.id;
      await h.call('PUT', '/v1/teams/key-owners/members/key-owner', { role: 'member' });
      owner = { ...owner, teamIds: [ownerTeamId] };
      for (const r of [
        { name: 'support-model', kind: 'model', owner: 'key-owner', purposes: ['support'] },
        { name: 'research-model', kind: 'model', owner: 'key-owner', purposes: ['research'] },
        { name: 'any-model', kind: 'model', owner: 'key-owner' },
      ]) expect((await h.call('POST', '/v1/resources', r)).status).toBe(201);
    });
    afterAll(async () => { await h?.close(); });
    beforeEach(() => { hookCalls = []; hookFails = false; });

    it.runIf(enabled)('create shows the key once, stores only its SHA-256, defaults the binding and audits without the key', async () => {
      const name = await agent();
      const created = await keys.create(admin, { principal: name, ttl_seconds: DAY });
      expect(created.key).toMatch(/^custos_ak_[a-z2-7]{16}_[A-Za-z0-9]{32}_[A-Za-z0-9]{6}$/);
      expect(parseCustosToken(created.key)).toEqual({ kind: 'ak', id: created.id });
      expect(created).toMatchObject({
        principal: { name }, scope: ['model:invoke', 'tools:read'], purpose: 'support', audience: [ISSUER],
        revoked_at: null, last_used_at: null, replaced_by: null, created_by: admin.principal!.id,
      });
      expect(new Date(created.expires_at).getTime() - new Date(created.created_at).getTime()).toBe(DAY * 1000);

      const stored = await row(created.id);
      expect(stored.secret_hash).toBe(sha256(created.key));
      expect(JSON.stringify(stored)).not.toContain(created.key.split('_')[3]);

      const listed = await keys.list(admin, { principal: name, limit: 50 });
      expect(listed.items).toHaveLength(1);
      expect(JSON.stringify(listed)).not.toContain(created.key);
      expect(listed.items[0]).not.toHaveProperty('key');

      const audited = await events('credential.api_key.created', created.id);
      expect(audited).toHaveLength(1);
      expect(audited[0]).toMatchObject({ action: 'credential.issue', details: { principal_id: stored.principal_id, scope: ['model:invoke', 'tools:read'], purpose: 'support' } });
      expect(audited[0].details.key_hmac).toMatch(/^[0-9a-f]{64}$/);
      expect(JSON.stringify(audited)).not.toContain(created.key);
    });

    it.runIf(enabled)('defaults to 24 hours and caps the lifetime by risk tier, answering ttl_too_long with max_seconds', async () => {
      const low = await agent();
      const dflt = await keys.create(admin, { principal: low } as never);
      expect(new Date(dflt.expires_at).getTime() - new Date(dflt.created_at).getTime()).toBe(DAY * 1000);
      for (const [tier, max] of [['low', 90 * DAY], ['medium', 30 * DAY], ['high', 7 * DAY], ['critical', DAY]] as const) {
        const name = await agent({ risk_tier: tier });
        expect((await keys.create(admin, { principal: name, ttl_seconds: max })).expires_at).toBe(new Date(h.clock.now().getTime() + max * 1000).toISOString());
        expect(await codeOf(keys.create(admin, { principal: name, ttl_seconds: max + 1 }))).toEqual({ code: 'ttl_too_long', extensions: { max_seconds: max } });
      }
    });

    it.runIf(enabled)('binds only approved scopes, an allowed purpose and registered audiences', async () => {
      const name = await agent({ purposes: ['support', 'research'] });
      expect((await codeOf(keys.create(admin, { principal: name, scope: ['model:invoke', 'admin:all'], purpose: 'support', ttl_seconds: HOUR })))?.code).toBe('scope_not_allowed');
      expect((await codeOf(keys.create(admin, { principal: name, ttl_seconds: HOUR })))?.code).toBe('purpose_not_allowed');
      expect((await codeOf(keys.create(admin, { principal: name, purpose: 'marketing', ttl_seconds: HOUR })))?.code).toBe('purpose_not_allowed');
      expect((await codeOf(keys.create(admin, { principal: name, purpose: 'support', audience: ['https://nowhere.example'], ttl_seconds: HOUR })))?.code).toBe('target_not_allowed');
      // A resource that lists purposes must list the key's.
      expect((await codeOf(keys.create(admin, { principal: name, purpose: 'support', audience: ['research-model'], ttl_seconds: HOUR })))?.code).toBe('target_not_allowed');

      const k = await keys.create(admin, {
        principal: name, scope: ['tools:read', 'tools:read'], purpose: 'support',
        audience: ['support-model', 'urn:custos:resource:any-model', `${ISSUER}/`, 'urn:custos:resource:support-model'], ttl_seconds: HOUR,
      });
      expect(k).toMatchObject({ scope: ['tools:read'], purpose: 'support', audience: ['urn:custos:resource:support-model', 'urn:custos:resource:any-model', ISSUER] });

      const none = await agent({ purposes: [] });
      expect((await keys.create(admin, { principal: none, ttl_seconds: HOUR })).purpose).toBeNull();
      expect((await codeOf(keys.create(admin, { principal: none, purpose: 'support', ttl_seconds: HOUR })))?.code).toBe('purpose_not_allowed');
    });

    it.runIf(enabled)('refuses principals that are not active or do not exist', async () => {
      const proposed = uniq('agent');
      await h.call('POST', '/v1/principals', { name: proposed, kind: 'agent', owner: 'key-owner' });
      expect((await codeOf(keys.create(admin, { principal: proposed, ttl_seconds: HOUR })))?.code).toBe('principal_cannot_hold_credentials');
      const suspended = await agent();
      expect((await h.call('POST', `/v1/principals/${suspended}/suspend`, { reason: 'test' })).status).toBe(200);
      expect((await codeOf(keys.create(admin, { principal: suspended, ttl_seconds: HOUR })))?.code).toBe('principal_cannot_hold_credentials');
      expect((await codeOf(keys.create(admin, { principal: 'no-such-agent', ttl_seconds: HOUR })))?.code).toBe('principal_not_found');
    });

    it.runIf(enabled)('rotation: a successor with the same binding and the original lifetime; the old key lives the overlap', async () => {
      const name = await agent();
      const old = await keys.create(admin, { principal: name, scope: ['tools:read'], audience: ['support-model'], ttl_seconds: 2 * DAY, description: 'ci' });
      h.clock.advance(HOUR * 1000);
      const rotated = await keys.rotate(admin, old.id, { overlap_seconds: 600 });
      const now = h.clock.now().getTime();
      expect(rotated.key).not.toBe(old.key);
      expect(rotated).toMatchObject({ principal: old.principal, scope: ['tools:read'], purpose: 'support', audience: ['urn:custos:resource:support-model'], description: 'ci', replaced_by: null });
      expect(rotated.expires_at).toBe(new Date(now + 2 * DAY * 1000).toISOString());
      expect(rotated.replaces).toMatchObject({ id: old.id, replaced_by: rotated.id, expires_at: new Date(now + 600_000).toISOString() });
      expect((await row(old.id)).expires_at).toBe(new Date(now + 600_000).toISOString());
      expect((await row(rotated.id)).secret_hash).toBe(sha256(rotated.key));

      // Both work inside the overlap; after it only the successor does.
      expect((await issuer.authenticate(old.key, NO_PROVENANCE)).credential?.id).toBe(old.id);
      expect((await issuer.authenticate(rotated.key, NO_PROVENANCE)).credential?.id).toBe(rotated.id);
      h.clock.advance(600_000);
      expect(await refusal(old.key)).toBe('token_expired');
      expect((await issuer.authenticate(rotated.key, NO_PROVENANCE)).credential?.id).toBe(rotated.id);

      const audited = await events('credential.api_key.rotated', old.id);
      expect(audited).toHaveLength(1);
      expect(audited[0]).toMatchObject({ action: 'credential.rotate', details: { replaced_by: rotated.id, overlap_seconds: 600 } });
      expect((await events('credential.api_key.created', rotated.id))[0].details.replaces).toBe(old.id);
      expect(JSON.stringify(audited)).not.toContain(rotated.key);

      expect((await codeOf(keys.rotate(admin, old.id, {})))?.code).toBe('invalid_transition');
    });

    it.runIf(enabled)('rotation never outlives the old key\'s overlap or the tier, and refuses revoked keys', async () => {
      const name = await agent();
      const old = await keys.create(admin, { principal: name, ttl_seconds: HOUR });
      h.clock.advance(50 * 60_000);
      const rotated = await keys.rotate(admin, old.id, undefined);
      expect(rotated.replaces.expires_at).toBe(old.expires_at); // 10 minutes left < the default hour of overlap
      expect(new Date(rotated.expires_at).getTime() - h.clock.now().getTime()).toBe(HOUR * 1000);

      const immediate = await keys.create(admin, { principal: name, ttl_seconds: HOUR });
      const r0 = await keys.rotate(admin, immediate.id, { overlap_seconds: 0 });
      expect(await refusal(immediate.key)).toBe('token_expired');
      expect((await issuer.authenticate(r0.key, NO_PROVENANCE)).principal?.name).toBe(name);

      const revoked = await keys.create(admin, { principal: name, ttl_seconds: HOUR });
      await keys.revoke(admin, revoked.id, 'test');
      expect((await codeOf(keys.rotate(admin, revoked.id, {})))?.code).toBe('credential_already_revoked');
    });

    it.runIf(enabled)('revoke: at once, audited, reaches the revocation hook in the same transaction; twice is credential_already_revoked', async () => {
      const name = await agent();
      const k = await keys.create(admin, { principal: name, ttl_seconds: HOUR });
      expect((await issuer.authenticate(k.key, NO_PROVENANCE)).principal?.name).toBe(name);
      const view = await keys.revoke(admin, k.id, 'rotated by hand');
      expect(view).toMatchObject({ id: k.id, revoked_reason: 'rotated by hand' });
      expect(view.revoked_at).not.toBeNull();
      expect(hookCalls.map((c) => [c.credentialId, c.reason])).toEqual([[k.id, 'rotated by hand']]);
      expect(await refusal(k.key)).toBe('token_revoked');
      expect(await events('credential.api_key.revoked', k.id)).toHaveLength(1);
      expect((await codeOf(keys.revoke(admin, k.id, undefined)))?.code).toBe('credential_already_revoked');
      expect((await keys.list(admin, { principal: name, limit: 50 })).items).toHaveLength(0);
      expect((await keys.list(admin, { principal: name, include_revoked: true, limit: 50 })).items).toHaveLength(1);
    });

    it.runIf(enabled)('a revocation whose hook fails changes nothing', async () => {
      const name = await agent();
      const k = await keys.create(admin, { principal: name, ttl_seconds: HOUR });
      hookFails = true;
      await expect(keys.revoke(admin, k.id, 'x')).rejects.toThrow(/revocation list unavailable/);
      hookFails = false;
      expect((await row(k.id)).revoked_at).toBeNull();
      expect(await events('credential.api_key.revoked', k.id)).toHaveLength(0);
    });

    it.runIf(enabled)('revokeAllOf revokes every live key of one principal (not others\', not dead ones); heldBy lists what is live', async () => {
      const name = await agent();
      const other = await agent();
      const a = await keys.create(admin, { principal: name, ttl_seconds: HOUR });
      const b = await keys.create(admin, { principal: name, ttl_seconds: 2 * HOUR });
      const dead = await keys.create(admin, { principal: name, ttl_seconds: HOUR });
      await keys.revoke(admin, dead.id, 'gone');
      const theirs = await keys.create(admin, { principal: other, ttl_seconds: HOUR });
      const principalId = a.principal.id;
      expect((await keys.heldBy(principalId)).map((k) => k.id).sort()).toEqual([a.id, b.id].sort());
      hookCalls = [];
      const revoked = await h.cp.db.write((trx, batch) => keys.revokeAllOf(trx, batch, admin, principalId, 'principal suspended'));
      expect(revoked.sort()).toEqual([a.id, b.id].sort());
      expect(hookCalls.map((c) => c.credentialId).sort()).toEqual([a.id, b.id].sort());
      expect(await keys.heldBy(principalId)).toEqual([]);
      expect(await refusal(b.key)).toBe('token_revoked');
      expect((await issuer.authenticate(theirs.key, NO_PROVENANCE)).principal?.name).toBe(other);
      expect((await events('credential.api_key.revoked', a.id))[0].details.reason).toBe('principal suspended');
    });

    it.runIf(enabled)('owner-role operators manage only keys of principals they or their teams own', async () => {
      const mine = await agent();
      const teamName = uniq('agent');
      expect((await h.call('POST', '/v1/principals', { name: teamName, kind: 'agent', owner_team: 'key-owners', status: 'active', purposes: ['support'] })).status).toBe(201);
      await h.operator('someone-else', 'auditor');
      const foreign = await agent({ owner: 'someone-else' });

      const k = await keys.create(owner, { principal: mine, ttl_seconds: HOUR });
      expect(k.created_by).toBe(owner.principal!.id);
      expect((await keys.create(owner, { principal: teamName, ttl_seconds: HOUR })).principal.name).toBe(teamName);
      expect((await codeOf(keys.create(owner, { principal: foreign, ttl_seconds: HOUR })))?.code).toBe('principal_not_found');
      // Outside a team, the team's principals are out of reach.
      expect((await codeOf(keys.create({ ...owner, teamIds: [] }, { principal: teamName, ttl_seconds: HOUR })))?.code).toBe('principal_not_found');

      const foreignKey = await keys.create(admin, { principal: foreign, ttl_seconds: HOUR });
      expect((await codeOf(keys.revoke(owner, foreignKey.id, undefined)))?.code).toBe('not_found');
      expect((await codeOf(keys.rotate(owner, foreignKey.id, {})))?.code).toBe('not_found');
      expect((await keys.list(owner, { principal: foreign, limit: 50 })).items).toEqual([]);
      expect((await codeOf(keys.list(owner, { limit: 50 })))?.code).toBe('forbidden');
      expect((await row(foreignKey.id)).revoked_at).toBeNull();

      expect((await keys.list(owner, { principal: mine, limit: 50 })).items.map((i) => i.id)).toEqual([k.id]);
      const rotated = await keys.rotate(owner, k.id, { overlap_seconds: 0 });
      expect((await keys.revoke(owner, rotated.id, 'done')).revoked_at).not.toBeNull();

      // Security and admin manage them all; auditors read them all.
      const auditor: Actor = { ...admin, role: 'auditor' };
      expect((await keys.list(auditor, { limit: 500 })).items.some((i) => i.id === foreignKey.id)).toBe(true);
      expect((await keys.revoke({ ...admin, role: 'security' }, foreignKey.id, undefined)).revoked_at).not.toBeNull();
    });

    it.runIf(enabled)('a principal acting with its own key lists and revokes its own keys, and creates none', async () => {
      const name = await agent();
      const k1 = await keys.create(admin, { principal: name, ttl_seconds: HOUR });
      const k2 = await keys.create(admin, { principal: name, ttl_seconds: HOUR });
      const other = await keys.create(admin, { principal: await agent(), ttl_seconds: HOUR });
      const self = await issuer.authenticate(k1.key, NO_PROVENANCE);
      expect((await keys.list(self, { limit: 50 })).items.map((i) => i.id).sort()).toEqual([k1.id, k2.id].sort());
      expect((await codeOf(keys.revoke(self, other.id, undefined)))?.code).toBe('not_found');
      expect((await keys.revoke(self, k2.id, 'self')).revoked_at).not.toBeNull();
      expect((await codeOf(keys.create(self, { principal: name, ttl_seconds: HOUR })))?.code).toBe('forbidden');
      expect((await codeOf(keys.rotate(self, k1.id, {})))?.code).toBe('not_found');
    });

    it.runIf(enabled)('lists page by cursor', async () => {
      const name = await agent();
      const ids = [];
      for (let i = 0; i < 5; i++) ids.push((await keys.create(admin, { principal: name, ttl_seconds: HOUR })).id);
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await keys.list(admin, { principal: name, limit: 2, cursor });
        expect(page.items.length).toBeLessThanOrEqual(2);
        seen.push(...page.items.map((i) => i.id));
        cursor = page.next_cursor ?? undefined;
      } while (cursor);
      expect(seen).toEqual([...ids].sort());
    });

    describe('the issuer (kind ak of the one verifier)', () => {
      it.runIf(enabled)('turns a valid key into the Actor its row binds', async () => {
        const name = await agent();
        const k = await keys.create(admin, { principal: name, scope: ['model:invoke'], audience: ['support-model'], ttl_seconds: HOUR });
        const provenance = { ...NO_PROVENANCE, sourceIp: '10.0.0.7', requestId: 'req-1' };
        const actor = await issuer.authenticate(k.key, provenance);
        expect(actor).toEqual({
          principal: { id: k.principal.id, name, kind: 'agent', status: 'active', ownerId: owner.principal!.id },
          credential: { id: k.id, kind: 'api_key', issuedAt: k.created_at, expiresAt: k.expires_at },
          authMethod: 'api_key', role: null, teamIds: [], scope: ['model:invoke'], purpose: 'support',
          audience: ['urn:custos:resource:support-model'], binding: null, delegationChain: [], provenance, label: null,
        });
      });

      it.runIf(enabled)('refuses a wrong checksum, an unknown id, a wrong secret, another kind, revoked, expired and suspended, each audited', async () => {
        const name = await agent();
        const k = await keys.create(admin, { principal: name, ttl_seconds: HOUR });
        const [, , id, secret, crc] = k.key.split('_') as [string, string, string, string, string];
        const badCrc = `custos_ak_${id}_${secret}_${crc === 'AAAAAA' ? 'AAAAAB' : 'AAAAAA'}`;
        expect(await refusal(badCrc)).toBe('malformed_token');
        expect(await refusal(generateCustosToken('ak').token)).toBe('unknown_token');
        const wrongSecret = formatCustosToken('ak', id, secret.split('').reverse().join(''));
        expect(await refusal(wrongSecret)).toBe('unknown_token');
        expect(await refusal(formatCustosToken('op', id, secret))).toBe('malformed_token');
        expect(await refusal('')).toBe('malformed_token');

        const toSuspend = await keys.create(admin, { principal: await agent(), ttl_seconds: HOUR });
        // Straight in the store: this tests the issuer's own check, whatever suspension revokes on its way.
        await h.cp.db.kysely.updateTable('principals').set({ status: 'suspended' }).where('id', '=', toSuspend.principal.id).execute();
        expect(await refusal(toSuspend.key)).toBe('principal_not_active');

        const toExpire = await keys.create(admin, { principal: name, ttl_seconds: 60 });
        h.clock.advance(59_999);
        expect((await issuer.authenticate(toExpire.key, NO_PROVENANCE)).credential?.id).toBe(toExpire.id);
        h.clock.advance(1);
        expect(await refusal(toExpire.key)).toBe('token_expired');

        await keys.revoke(admin, k.id, 'test');
        expect(await refusal(k.key)).toBe('token_revoked');
        const failed = await h.cp.db.kysely.selectFrom('audit_events').selectAll().where('type', '=', 'auth.failed').orderBy('seq', 'desc').limit(1).executeTakeFirstOrThrow();
        expect(JSON.parse(failed.canonical)).toMatchObject({ actor: { credential_id: k.id, auth_method: 'api_key' }, outcome: 'failure' });
      });

      it.runIf(enabled)('records last use at most once a minute', async () => {
        const k = await keys.create(admin, { principal: await agent(), ttl_seconds: HOUR });
        await issuer.authenticate(k.key, NO_PROVENANCE);
        const first = (await row(k.id)).last_used_at;
        expect(first).toBe(h.clock.now().toISOString());
        h.clock.advance(59_000);
        await issuer.authenticate(k.key, NO_PROVENANCE);
        expect((await row(k.id)).last_used_at).toBe(first);
        h.clock.advance(1_000);
        await issuer.authenticate(k.key, NO_PROVENANCE);
        expect((await row(k.id)).last_used_at).toBe(h.clock.now().toISOString());
      });
    });

    describe('the leaked-key loop', () => {
      function findings() {
        const db = h.cp.db;
        const tokens = createOperatorTokenService({ db, audit: h.cp.audit, clock: h.clock, identity: createIdentityDirectory({ db }) });
        return createFindingService({
          db, audit: h.cp.audit, clock: h.clock, newId, autoRevoke: true,
          credentials: createLeakRevoker({ op: tokens.revokeLeaked, ak: keys.revokeLeaked }),
        });
      }

      it.runIf(enabled)('a key found by a real scan carries its id and SHA-256 prefix; reported, it is revoked at once in the report\'s transaction', async () => {
        const name = await agent();
        const k = await keys.create(admin, { principal: name, ttl_seconds: HOUR });
        const result = await scanText(`CUSTOS_API_KEY=${k.key}\n`);
        const finding = result.findings.find((f) => f.ruleId === 'custos-api-key');
        expect(finding).toMatchObject({ credential: { kind: 'ak', id: k.id }, secretHash: sha256(k.key).slice(0, 16), verified: true });
        const body = toReportBody(result, { publicRepo: true }, 'test');
        expect(JSON.stringify(body)).not.toContain(k.key);

        const report = await findings().report(admin, body);
        expect(report.revoked).toEqual([{ credential_id: k.id, finding_id: expect.any(String), owner_id: k.principal.id }]);
        const stored = report.findings.find((f) => f.credential?.id === k.id)!;
        expect(stored).toMatchObject({ status: 'revoked', liveness: 'revoked', credential: { kind: 'ak', owner_id: k.principal.id } });
        expect(await refusal(k.key)).toBe('token_revoked');

        const revokedEvents = await events('credential.api_key.revoked', k.id);
        expect(revokedEvents).toHaveLength(1);
        expect(revokedEvents[0].details).toMatchObject({ reason: 'leaked: found by a secret scan', finding_id: stored.id, source: 'dir' });
        expect(hookCalls.map((c) => [c.credentialId, c.reason])).toEqual([[k.id, 'leaked: found by a secret scan']]);
        // One transaction: the revocation's event and the report's are consecutive in the log.
        const seqs = await h.cp.db.kysely.selectFrom('audit_events').select(['seq', 'type']).where('type', 'in', ['credential.api_key.revoked', 'finding.reported']).orderBy('seq', 'desc').limit(2).execute();
        expect(seqs.map((s) => s.type)).toEqual(['finding.reported', 'credential.api_key.revoked']);
        expect(Number(seqs[0]!.seq) - Number(seqs[1]!.seq)).toBe(1);

        // Reported again, it is already revoked: nothing more happens.
        const again = await findings().report(admin, body);
        expect(again.revoked).toEqual([]);
        expect(await events('credential.api_key.revoked', k.id)).toHaveLength(1);
      });

      it.runIf(enabled)('a report whose revocation fails is not recorded at all (same transaction)', async () => {
        const k = await keys.create(admin, { principal: await agent(), ttl_seconds: HOUR });
        const body = toReportBody(await scanText(`key: ${k.key}\n`), {}, 'test');
        hookFails = true;
        await expect(findings().report(admin, body)).rejects.toThrow(/revocation list unavailable/);
        hookFails = false;
        expect((await row(k.id)).revoked_at).toBeNull();
        expect((await issuer.authenticate(k.key, NO_PROVENANCE)).credential?.id).toBe(k.id);
        const fp = body.findings[0]!.fingerprint;
        expect(await h.cp.db.kysely.selectFrom('findings').select('id').where('fingerprint', '=', fp).execute()).toEqual([]);
      });

      it.runIf(enabled)('needs the hash prefix, not the id alone; an expired key is reported expired; op tokens still go to operators', async () => {
        const k = await keys.create(admin, { principal: await agent(), ttl_seconds: 60 });
        const body = toReportBody(await scanText(`key: ${k.key}\n`), {}, 'test');
        const forged = structuredClone(body);
        for (const f of forged.findings) f.secret_sha256_prefix = '0'.repeat(16);
        expect((await findings().report(admin, forged)).revoked).toEqual([]);
        expect((await row(k.id)).revoked_at).toBeNull();
        h.clock.advance(60_000);
        const expired = await findings().report(admin, body);
        expect(expired.revoked).toEqual([]);
        expect(expired.findings[0]).toMatchObject({ liveness: 'expired' });

        const op = await h.operator(uniq('leaky-op'), 'auditor');
        const opReport = await findings().report(admin, toReportBody(await scanText(`CUSTOS_TOKEN=${op}\n`), {}, 'test'));
        expect(opReport.revoked).toHaveLength(1);
        expect((await h.call('GET', '/v1/whoami', undefined, op)).status).toBe(401);
      });
    });

    describe('over HTTP (a stub pipeline acting as the admin)', () => {
      it.runIf(enabled)('201 with the key on create, problem+json with the rule\'s code, 404 for an unknown id', async () => {
        const app = await createHttpApp({ logger: createLogger('silent'), version: VERSION, pipeline: async () => admin });
        registerApiKeyRoutes(app, keys);
        try {
          const name = await agent({ risk_tier: 'high' });
          const created = await app.inject({ method: 'POST', url: '/v1/api-keys', payload: { principal: name, ttl_seconds: HOUR } });
          expect(created.statusCode).toBe(201);
          expect(created.json()).toMatchObject({ principal: { name }, key: expect.stringMatching(/^custos_ak_/) });
          const tooLong = await app.inject({ method: 'POST', url: '/v1/api-keys', payload: { principal: name, ttl_seconds: 8 * DAY } });
          expect([tooLong.statusCode, tooLong.json().code, tooLong.json().max_seconds]).toEqual([422, 'ttl_too_long', 7 * DAY]);
          const id = created.json().id as string;
          const listed = await app.inject({ method: 'GET', url: `/v1/api-keys?principal=${name}` });
          expect(listed.json().items.map((i: { id: string }) => i.id)).toEqual([id]);
          expect(listed.body).not.toContain(created.json().key);
          const rotated = await app.inject({ method: 'POST', url: `/v1/api-keys/${id}/rotate`, payload: { overlap_seconds: 60 } });
          expect(rotated.statusCode).toBe(200);
          expect(rotated.json().replaces.replaced_by).toBe(rotated.json().id);
          const revoked = await app.inject({ method: 'POST', url: `/v1/api-keys/${rotated.json().id}/revoke`, payload: { reason: 'done' } });
          expect([revoked.statusCode, revoked.json().revoked_reason]).toEqual([200, 'done']);
          const again = await app.inject({ method: 'POST', url: `/v1/api-keys/${rotated.json().id}/revoke`, payload: {} });
          expect([again.statusCode, again.json().code]).toEqual([409, 'credential_already_revoked']);
          expect((await app.inject({ method: 'POST', url: '/v1/api-keys/aaaaaaaaaaaaaaaa/revoke', payload: {} })).statusCode).toBe(404);
          expect((await app.inject({ method: 'POST', url: '/v1/api-keys/NOT-AN-ID/revoke', payload: {} })).statusCode).toBe(400);
          expect((await app.inject({ method: 'POST', url: '/v1/api-keys', payload: { principal: name, scope: ['has space'] } })).statusCode).toBe(400);
          expect((await app.inject({ method: 'POST', url: `/v1/api-keys/${id}/rotate`, payload: { overlap_seconds: 7 * DAY + 1 } })).statusCode).toBe(400);
        } finally {
          await app.close();
        }
      });
    });
  });
}
