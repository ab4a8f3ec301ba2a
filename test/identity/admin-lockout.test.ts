import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, postgresReachable } from '../support/backends.js';
import { startHarness, type Harness } from '../support/harness.js';
import { createIdentityDirectory, createPrincipalService, type PrincipalService } from '../../src/identity/index.js';
import { createAdminRecovery, createOperatorTokenService, type AdminRecovery, type OperatorTokenService } from '../../src/operators/index.js';
import { NO_PROVENANCE, systemActor, type Actor } from '../../src/platform/actor.js';
import { AppError } from '../../src/platform/http/errors.js';
import { newId } from '../../src/platform/ids.js';
import { eventsSince, lastSeq, rowCounts } from './store-probe.js';

// "Roles and ownership" (SECURITY-TESTS.md): humans have no owners; no role acts on a principal holding a
// higher role; the last admin cannot be suspended or lose its last token; a host operator can recover.
//
// The HTTP checks go through the control plane as the composition root builds it. The role rules need the
// operators module's RoleLookup passed to the principal service; these tests also build that service with
// the lookup over the same store, so the rules are proven whatever app.ts wires.

const code = async (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (e instanceof AppError ? e.code : String(e)));

for (const backend of BACKENDS) {
  describe(`admin lockout on ${backend}`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    let h: Harness;
    let tokens: OperatorTokenService;
    let principals: PrincipalService;
    let recovery: AdminRecovery;
    const system = systemActor('cli_local');
    const actorOf = (token: string): Promise<Actor> => tokens.authenticate(token, NO_PROVENANCE);
    const mint = async (principal: string, role: string, ttl = 3600) => {
      const r = await h.call('POST', '/v1/operator-tokens', { principal, role, ttl_seconds: ttl });
      if (r.status !== 201) throw new Error(r.text);
      return r.body as { id: string; token: string };
    };
    const bootstrapTokenId = () => /^custos_op_([a-z2-7]{16})_/.exec(h.adminToken)![1]!;

    beforeAll(async () => {
      if (!enabled) return;
      h = await startHarness(backend);
      const db = h.cp.db;
      const identity = createIdentityDirectory({ db });
      tokens = createOperatorTokenService({ db, audit: h.cp.audit, clock: h.clock, identity });
      principals = createPrincipalService({ db, audit: h.cp.audit, clock: h.clock, newId, roles: tokens });
      recovery = createAdminRecovery({ db, audit: h.cp.audit, identity, principals, tokens });
    });
    afterAll(async () => { await h?.close(); });

    it.runIf(enabled)('the last active admin cannot be suspended or decommissioned, nor lose its last valid admin token', async () => {
      // Only the bootstrap admin holds an admin token.
      expect(await code(principals.transition(system, 'bootstrap-admin', 'suspend', 'test'))).toBe('last_admin');
      expect(await code(principals.transition(system, 'bootstrap-admin', 'decommission', 'test'))).toBe('last_admin');
      await h.call('GET', '/v1/whoami'); // first use is a sign-in that writes; done before counting
      const counts = await rowCounts(h);
      const selfRevoke = await h.call('POST', `/v1/operator-tokens/${bootstrapTokenId()}/revoke`, { reason: 'oops' });
      expect([selfRevoke.status, selfRevoke.body.code]).toEqual([409, 'last_admin']);
      expect(await rowCounts(h)).toEqual(counts);
      expect((await h.call('GET', '/v1/whoami')).body.role).toBe('admin');

      // A second admin: either may now lose a token or be suspended, while the other remains.
      await h.call('POST', '/v1/principals', { name: 'second', kind: 'human' });
      const t2 = await mint('second', 'admin', 600);
      const revoked = await h.call('POST', `/v1/operator-tokens/${t2.id}/revoke`, { reason: 'rotating' }, t2.token);
      expect(revoked.status, revoked.text).toBe(200);
      await mint('second', 'admin', 600);
      expect(await code(principals.transition(system, 'second', 'suspend', 'test'))).toBe('ok');
      // A suspended admin keeps its token, but is no admin anyone can act as: the bootstrap admin is last again.
      expect(await code(principals.transition(system, 'bootstrap-admin', 'suspend', 'test'))).toBe('last_admin');
      expect((await h.call('POST', `/v1/operator-tokens/${bootstrapTokenId()}/revoke`, {})).body.code).toBe('last_admin');
      expect(await code(principals.transition(system, 'second', 'activate', 'test'))).toBe('ok');
      // An expired admin token does not count either.
      h.clock.advance(601_000);
      expect(await code(principals.transition(system, 'bootstrap-admin', 'suspend', 'test'))).toBe('last_admin');
      expect((await h.call('GET', '/v1/principals/bootstrap-admin')).body.status).toBe('active');
    });

    it.runIf(enabled)('humans have no owners, on create and on update', async () => {
      await h.call('POST', '/v1/principals', { name: 'mallory', kind: 'human' });
      await h.call('POST', '/v1/teams', { name: 'ops' });
      const counts = await rowCounts(h);
      for (const body of [{ owner: 'mallory' }, { owner_team: 'ops' }]) {
        const created = await h.call('POST', '/v1/principals', { name: 'henry', kind: 'human', ...body });
        expect([created.status, created.body.code], JSON.stringify(body)).toEqual([422, 'human_has_no_owner']);
        const updated = await h.call('PATCH', '/v1/principals/bootstrap-admin', body);
        expect([updated.status, updated.body.code], JSON.stringify(body)).toEqual([422, 'human_has_no_owner']);
      }
      expect(await rowCounts(h)).toEqual(counts);
      // Clearing (null) is no owner either, so it is accepted and changes nothing.
      expect((await h.call('PATCH', '/v1/principals/mallory', { owner: null, owner_team: null })).body.version).toBe(1);
    });

    it.runIf(enabled)('the issue\'s chain is closed: an owner-role operator cannot reach the admin it could once be made owner of', async () => {
      const owner = await mint('mallory', 'owner');
      expect((await h.call('PATCH', '/v1/principals/bootstrap-admin', { owner: 'mallory' })).body.code).toBe('human_has_no_owner');
      for (const [method, url] of [['GET', '/v1/principals/bootstrap-admin'], ['POST', '/v1/principals/bootstrap-admin/suspend'], ['PATCH', '/v1/principals/bootstrap-admin']] as const) {
        const r = await h.call(method, url, method === 'GET' ? undefined : {}, owner.token);
        expect(r.status, `${method} ${url}`).toBe(404);
      }
      expect((await h.call('GET', '/v1/principals/bootstrap-admin')).body).toMatchObject({ status: 'active', owner: null });
    });

    it.runIf(enabled)('no role acts on a principal holding a higher role: security cannot suspend, change or review an admin, nor revoke its token', async () => {
      await h.call('POST', '/v1/principals', { name: 'sec', kind: 'human' });
      const sec = await mint('sec', 'security');
      const security = await actorOf(sec.token);
      expect(await code(principals.transition(security, 'bootstrap-admin', 'suspend', 'coup'))).toBe('forbidden');
      expect(await code(principals.transition(security, 'bootstrap-admin', 'decommission', 'coup'))).toBe('forbidden');
      expect(await code(principals.update(security, 'bootstrap-admin', { display_name: 'pwned' }))).toBe('forbidden');
      expect(await code(principals.markReviewed(security, 'bootstrap-admin', 'x'))).toBe('forbidden');
      const revoke = await h.call('POST', `/v1/operator-tokens/${bootstrapTokenId()}/revoke`, { reason: 'coup' }, sec.token);
      expect([revoke.status, revoke.body.code]).toEqual([403, 'forbidden']);
      expect((await h.call('GET', '/v1/principals/bootstrap-admin')).body).toMatchObject({ status: 'active', display_name: 'Bootstrap administrator' });

      // Peers and lower roles are in reach: security reviews an auditor and another security operator.
      await h.call('POST', '/v1/principals', { name: 'aud', kind: 'human' });
      await mint('aud', 'auditor');
      await h.call('POST', '/v1/principals', { name: 'sec-2', kind: 'human' });
      await mint('sec-2', 'security');
      expect(await code(principals.markReviewed(security, 'aud', 'q3'))).toBe('ok');
      expect(await code(principals.markReviewed(security, 'sec-2', 'q3'))).toBe('ok');
      // The role counted is the highest among valid tokens: once 'aud' also holds admin, security loses reach;
      // when that token is revoked, it has it again.
      const audAdmin = await mint('aud', 'admin');
      expect(await code(principals.transition(security, 'aud', 'suspend', 'x'))).toBe('forbidden');
      expect((await h.call('POST', `/v1/operator-tokens/${audAdmin.id}/revoke`, {})).status).toBe(200);
      expect(await code(principals.transition(security, 'aud', 'suspend', 'x'))).toBe('ok');
      // An admin acts on security holders.
      const admin = await actorOf(h.adminToken);
      expect(await code(principals.transition(admin, 'sec-2', 'suspend', 'x'))).toBe('ok');
    });

    it.runIf(enabled)('recovery: only a host operator (cli_local) mints an admin token, for an active human or a new one, and it is audited', async () => {
      const admin = await actorOf(h.adminToken);
      expect(await code(recovery.recover(admin, { principal: 'mallory', reason: 'x' }))).toBe('forbidden');
      expect(await code(recovery.recover(system, { principal: 'nobody', reason: 'x' }))).toBe('principal_not_found');
      expect(await code(recovery.recover(system, { principal: 'Not A Name', create: true, reason: 'x' }))).toBe('validation_failed');
      expect(await code(recovery.recover(system, { principal: 'aud', reason: 'x' }))).toBe('principal_not_active');
      expect(await code(recovery.recover(system, { principal: 'mallory', reason: ' ' }))).toBe('validation_failed');
      await h.call('POST', '/v1/principals', { name: 'bot', kind: 'agent', owner: 'mallory' });
      expect(await code(recovery.recover(system, { principal: 'bot', reason: 'x' }))).toBe('principal_not_human');

      // Lock-out: every admin token has expired. The recovered token works at once.
      h.clock.advance(91 * 86_400_000);
      expect((await h.call('GET', '/v1/whoami')).status).toBe(401);
      const seq = await lastSeq(h);
      const r = await recovery.recover(system, { principal: 'rescuer', create: true, reason: 'INC-7: all admin tokens expired' });
      expect(r).toMatchObject({ principal: { name: 'rescuer' }, created: true });
      const who = await h.call('GET', '/v1/whoami', undefined, r.token);
      expect(who.body).toMatchObject({ principal_name: 'rescuer', role: 'admin' });
      const events = await eventsSince(h, seq);
      expect(events.map((e) => e.type)).toEqual(['principal.created', 'credential.operator_token.issued', 'operator.admin_recovered', 'auth.sign_in']);
      expect(events[2]).toMatchObject({
        actor: { principal_name: 'system:cli_local' }, target: { type: 'principal', name: 'rescuer' },
        details: { reason: 'INC-7: all admin tokens expired', created: true, token_id: r.token_id },
      });
      expect(JSON.stringify(events)).not.toContain(r.token);
      // An existing active human can be named too.
      const again = await recovery.recover(system, { principal: 'mallory', reason: 'second operator' });
      expect(again.created).toBe(false);
      expect((await h.call('GET', '/v1/whoami', undefined, again.token)).body.role).toBe('admin');
    });
  });
}
