import fs from 'node:fs';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Decision, DecisionRequest } from '../../src/authz/index.js';
import { systemActor } from '../../src/platform/actor.js';
import { AppError } from '../../src/platform/http/errors.js';
import { activate, PERMIT_ALL, principalId, registry, request, seedRegistry } from '../support/authz.js';
import { ADMIN_URL, BACKENDS, postgresReachable, type Backend } from '../support/backends.js';
import { startHarness, type Harness } from '../support/harness.js';
import { asAttacker, refuseAuditInserts } from '../support/tamper.js';

// The fail-closed matrix of the decision point: every way a decision can go wrong ends in deny (recorded, with the
// reason) or in an error the caller answers with 503 — never in allow. The active user policy permits everything,
// so each deny below is the failure's doing, not default deny.

const allowedBefore = async (h: Harness, r: DecisionRequest) => {
  const d = await h.cp.authz.pdp.decide(r, systemActor());
  expect(d.decision, JSON.stringify(d.reasons)).toBe('allow');
};

/** The decision point must throw (the enforcement point answers 503); it must never resolve, least of all to allow. */
async function expectThrows(p: Promise<Decision>, code?: string): Promise<unknown> {
  const outcome = await p.then((d) => ({ resolved: d }), (error: unknown) => ({ error }));
  expect('resolved' in outcome ? outcome.resolved.decision : 'threw').toBe('threw');
  const error = (outcome as { error: unknown }).error;
  if (code) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe(code);
    expect((error as AppError).status).toBe(503);
  }
  return error;
}

const errorsOf = (d: Decision) => d.reasons.filter((r) => r.kind === 'error').map((r) => r.policy);

async function closeQuietly(h: Harness | undefined): Promise<void> {
  if (!h) return;
  await h.close().catch(() => fs.rmSync(h.dataDir, { recursive: true, force: true }));
}

/** PostgreSQL: the database refuses new connections and every open one is terminated. Returns the undo. */
async function cutPostgres(databaseUrl: string): Promise<() => Promise<void>> {
  const name = new URL(databaseUrl).pathname.slice(1);
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`alter database ${name} allow_connections false`);
    await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [name]);
  } finally {
    await admin.end();
  }
  // Let the pool see its idle connections die before the next query. Without this pause a query can be handed a
  // connection whose termination is still in flight; pg then emits 'error' on a checked-out client nobody listens
  // on, an uncaught exception (a crash of `custos serve`): reported to the store's owner, see the report.
  await new Promise((resolve) => setTimeout(resolve, 200));
  return async () => {
    const c = new pg.Client({ connectionString: ADMIN_URL });
    await c.connect();
    await c.query(`alter database ${name} allow_connections true`);
    await c.end();
  };
}

/** One AuthZEN evaluation (operator token of the harness's admin). */
const evaluation = (h: Harness, subject: string, action: string, resource: string, type = 'dataset') =>
  h.call('POST', '/access/v1/evaluation', { subject: { type: 'agent', id: subject }, action: { name: action }, resource: { type, id: resource } });

/** A 503 problem+json with the given code (or any code when none is given), and nothing that reads as a decision. */
function expect503(res: Awaited<ReturnType<Harness['call']>>, code?: string): void {
  expect(res.status, res.text).toBe(503);
  expect(String(res.headers['content-type'])).toContain('application/problem+json');
  if (code) expect(res.body.code).toBe(code);
  expect(res.body.decision).toBeUndefined();
}

async function seeded(backend: Backend): Promise<Harness> {
  const h = await startHarness(backend);
  await seedRegistry(h);
  await activate(h, PERMIT_ALL);
  return h;
}

for (const backend of BACKENDS) {
  describe(`fail-closed decision point (${backend})`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());

    describe.runIf(enabled)('on a working store', () => {
      let h: Harness;
      const decide = (r: DecisionRequest) => h.cp.authz.pdp.decide(r, systemActor());
      const evaluate: Harness['cp']['authz']['pdp']['evaluate'] = (r, o) => h.cp.authz.pdp.evaluate(r, o);

      beforeAll(async () => { h = await seeded(backend); }, 60_000);
      afterAll(async () => { await closeQuietly(h); });

      it('unknown principal: deny, refused, recorded', async () => {
        const d = await decide(request('nobody', 'read', registry('ds-pub')));
        expect(d.decision).toBe('deny');
        expect(d.reasons).toEqual([{ kind: 'refused', code: 'unknown_principal', message: 'no such principal' }]);
        expect(d.verdicts).toEqual([]);
        const events = await h.call('GET', '/v1/audit/events?type=authz.decision&order=desc&limit=1');
        expect(events.body.items[0]).toMatchObject({ id: d.auditEventId, type: 'authz.decision', decision: 'deny' });
        // A registry id that is not a principal's, and a resource's name, are unknown principals too.
        expect((await evaluate(request('00000000-0000-4000-8000-000000000000', 'read', registry('ds-pub')))).reasons[0]).toMatchObject({ code: 'unknown_principal' });
        expect((await evaluate(request('ds-pub', 'read', registry('ds-pub')))).reasons[0]).toMatchObject({ code: 'unknown_principal' });
      });

      it('unknown principal in the delegation chain: deny', async () => {
        const d = await decide(request('bot-a', 'read', registry('ds-pub'), { delegationChain: ['no-such-id'] }));
        expect(d.decision).toBe('deny');
        expect(d.reasons).toEqual([{ kind: 'refused', code: 'unknown_principal', message: 'a principal of the delegation chain is not known' }]);
        const chain = [await principalId(h, 'bot-b'), 'no-such-id'];
        expect((await evaluate(request('bot-a', 'read', registry('ds-pub'), { delegationChain: chain }))).decision).toBe('deny');
      });

      it('unknown resource: deny, refused, recorded', async () => {
        const d = await decide(request('bot-a', 'read', registry('no-such-model')));
        expect(d.decision).toBe('deny');
        expect(d.reasons).toEqual([{ kind: 'refused', code: 'unknown_resource', message: 'no such resource' }]);
        expect(d.auditEventId).not.toBeNull();
        // A name of the wrong kind, and a principal's name, are not resources.
        expect((await evaluate(request('bot-a', 'read', { kind: 'registry', ref: 'ds-pub', resourceKind: 'model' }))).reasons[0]).toMatchObject({ code: 'unknown_resource' });
        expect((await evaluate(request('bot-a', 'read', registry('bot-b')))).reasons[0]).toMatchObject({ code: 'unknown_resource' });
      });

      it('through the AuthZEN API: allowed when all is well; unknown subject or resource is a deny, never an allow', async () => {
        const okRes = await evaluation(h, 'bot-a', 'read', 'ds-pub');
        expect(okRes.status, okRes.text).toBe(200);
        expect(okRes.body.decision).toBe(true);
        for (const res of [await evaluation(h, 'nobody', 'read', 'ds-pub'), await evaluation(h, 'bot-a', 'read', 'no-such-dataset')]) {
          expect([200, 400, 404, 422]).toContain(res.status);
          if (res.status === 200) expect(res.body.decision).toBe(false);
        }
      });

      it('unknown action: deny', async () => {
        const d = await decide(request('bot-a', 'teleport', registry('ds-pub')));
        expect(d.decision).toBe('deny');
        expect(d.reasons[0]).toMatchObject({ kind: 'refused', code: 'unknown_action' });
      });

      it('an erroring forbid denies although a permit applies (Cedar alone would allow)', async () => {
        // bot-b has no `clearance` label: getTag errors, Cedar skips the forbid.
        const erroring = '@id("erroring-forbid")\nforbid (principal, action, resource) when { principal.getTag("clearance") == "none" };';
        const candidate = { text: `${PERMIT_ALL}\n${erroring}`, label: 'candidate:erroring-forbid' };
        const d = await evaluate(request('bot-b', 'read', registry('ds-pub')), { candidate });
        expect(d.decision).toBe('deny');
        expect(d.reasons).toContainEqual({ kind: 'permit', policy: 'permit-all', principal: 'bot-b' });
        expect(errorsOf(d)).toEqual(['erroring-forbid']);
        expect(d.verdicts[0]!.decision).toBe('deny');
        // The same as the active version, through decide.
        await activate(h, candidate.text);
        try {
          const decided = await decide(request('bot-b', 'read', registry('ds-pub')));
          expect(decided.decision).toBe('deny');
          expect(errorsOf(decided)).toEqual(['erroring-forbid']);
          // The neighbour whose label exists: the forbid evaluates (to false), nothing errors, allowed.
          expect((await decide(request('bot-a', 'read', registry('ds-pub')))).decision).toBe('allow');
        } finally {
          await activate(h, PERMIT_ALL);
        }
      });

      it('an erroring permit denies although another permit applies', async () => {
        const text = `${PERMIT_ALL}\n@id("erroring-permit")\npermit (principal, action, resource) when { resource.getTag("owner-note") == "x" };`;
        const d = await evaluate(request('bot-a', 'read', registry('ds-pub')), { candidate: { text, label: 'candidate:erroring-permit' } });
        expect(d.decision).toBe('deny');
        expect(errorsOf(d)).toEqual(['erroring-permit']);
      });

      it('missing context attribute: a guardrail that reads it errors, and the decision is deny', async () => {
        // A recorded context (impact replays pass one) without `device`: the posture guardrail cannot evaluate.
        const built = (await evaluate(request('ana', 'read', registry('ds-int')))).context;
        expect(built).toHaveProperty('device');
        const { device: _device, ...withoutDevice } = built;
        const d = await evaluate(request('ana', 'read', registry('ds-conf')), { context: withoutDevice });
        expect(d.decision).toBe('deny');
        expect(errorsOf(d)).toEqual(['guardrail:posture-not-compliant-no-confidential']);
        // Without `auth`, restricted data cannot be reached (the bound-token guardrail errors).
        const agentContext = (await evaluate(request('bot-b', 'read', registry('ds-int'), { purpose: 'fraud', dpopBound: true }))).context;
        const { auth: _auth, ...withoutAuth } = agentContext;
        const r = await evaluate(request('bot-b', 'read', registry('ds-res'), { purpose: 'fraud', dpopBound: true }), { context: withoutAuth });
        expect(r.decision).toBe('deny');
        expect(errorsOf(r)).toContain('guardrail:restricted-needs-bound-token');
        // With the attributes present, the same agent request is allowed: the deny above is the missing attribute's.
        expect((await evaluate(request('bot-b', 'read', registry('ds-res'), { purpose: 'fraud', dpopBound: true }), { context: agentContext })).decision).toBe('allow');
      });

      it('missing context attribute: a user permit that reads it errors, and the decision is deny', async () => {
        const text = '@id("compliant-only")\npermit (principal, action, resource) when { context.device.posture == "compliant" };';
        const built = (await evaluate(request('bot-a', 'read', registry('ds-pub')))).context;
        const { device: _device, ...withoutDevice } = built;
        const d = await evaluate(request('bot-a', 'read', registry('ds-pub')), { candidate: { text, label: 'candidate:posture' }, context: withoutDevice });
        expect(d.decision).toBe('deny');
        expect(errorsOf(d)).toEqual(['compliant-only']);
        // An attribute the schema does not have at all (only an unvalidated candidate can name it).
        const unknownAttr = `${PERMIT_ALL}\n@id("geo")\nforbid (principal, action, resource) when { context.geo.country == "xx" };`;
        const g = await evaluate(request('bot-a', 'read', registry('ds-pub')), { candidate: { text: unknownAttr, label: 'candidate:geo' } });
        expect(g.decision).toBe('deny');
        expect(errorsOf(g)).toEqual(['geo']);
        // An empty recorded context: any policy that reads it errors.
        const e = await evaluate(request('bot-a', 'read', registry('ds-pub')), { candidate: { text: '@id("purpose")\npermit (principal, action, resource) when { context.purpose == "" };', label: 'candidate:empty' }, context: {} });
        expect(e.decision).toBe('deny');
        expect(errorsOf(e)).toEqual(['purpose']);
      });

      it('a stored policy version that no longer parses: the snapshot cannot be built, decisions throw (never the old allow)', async () => {
        await allowedBefore(h, request('bot-a', 'read', registry('ds-pub')));
        await activate(h, 'permit (principal, action, resource) when { this is not cedar');
        try {
          await expectThrows(h.cp.authz.pdp.decide(request('bot-a', 'read', registry('ds-pub')), systemActor()));
          await expectThrows(evaluate(request('bot-a', 'read', registry('ds-pub'))));
        } finally {
          await activate(h, PERMIT_ALL);
        }
        await allowedBefore(h, request('bot-a', 'read', registry('ds-pub')));
      });

      it('the store\'s version counters cannot be read: decisions throw, the AuthZEN API answers 503 store_unavailable', async () => {
        const r = request('bot-a', 'read', registry('ds-pub'));
        await allowedBefore(h, r);
        await sql`alter table authz_versions rename to authz_versions_away`.execute(h.cp.db.kysely);
        try {
          await expectThrows(decide(r));
          await expectThrows(evaluate(r));
          expect503(await evaluation(h, 'bot-a', 'read', 'ds-pub'), 'store_unavailable');
        } finally {
          await sql`alter table authz_versions_away rename to authz_versions`.execute(h.cp.db.kysely);
        }
        await allowedBefore(h, r);
      });

      it('audit unwritable: decide throws audit_unavailable (503) and returns no allow; nothing is recorded', async () => {
        await allowedBefore(h, request('bot-a', 'read', registry('ds-pub')));
        const count = async () => Number((await h.cp.db.kysely.selectFrom('audit_events').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
        const before = await count();
        const undo = await refuseAuditInserts(h);
        try {
          await expectThrows(decide(request('bot-a', 'read', registry('ds-pub'))), 'audit_unavailable');
          // A deny is not answered unrecorded either.
          await expectThrows(decide(request('nobody', 'read', registry('ds-pub'))), 'audit_unavailable');
          // Through the AuthZEN API: 503 problem+json, no decision.
          expect503(await evaluation(h, 'bot-a', 'read', 'ds-pub'), 'audit_unavailable');
          expect(await count()).toBe(before);
        } finally {
          await undo();
        }
        await allowedBefore(h, request('bot-a', 'read', registry('ds-pub')));
      });
    });

    describe.runIf(enabled)('when the store or the audit log is gone', () => {
      it('audit log failing its integrity check: decide throws audit_integrity_failed (503), no allow', async () => {
        const h = await seeded(backend);
        try {
          await allowedBefore(h, request('bot-a', 'read', registry('ds-pub')));
          await allowedBefore(h, request('bot-a', 'read', registry('ds-pub')));
          // Someone with database access deletes the newest events: the log no longer matches what was acknowledged.
          const last = Number((await h.cp.db.kysely.selectFrom('audit_events').select((eb) => eb.fn.max('seq').as('m')).executeTakeFirstOrThrow()).m);
          await asAttacker(h.cp.db, (q) => q.deleteFrom('audit_events').where('seq', '>=', last - 1).execute().then(() => undefined));
          await expectThrows(h.cp.authz.pdp.decide(request('bot-a', 'read', registry('ds-pub')), systemActor()), 'audit_integrity_failed');
          expect503(await evaluation(h, 'bot-a', 'read', 'ds-pub'), 'audit_integrity_failed');
        } finally {
          await closeQuietly(h);
        }
      });

      it('store unavailable after a decision was served from the snapshot: decisions throw, never the cached allow', async () => {
        const h = await seeded(backend);
        let restore: (() => Promise<void>) | undefined;
        try {
          const r = request('bot-a', 'read', registry('ds-pub'));
          await allowedBefore(h, r);
          expect((await h.cp.authz.pdp.evaluate(r)).decision).toBe('allow');
          if (backend === 'postgres') restore = await cutPostgres(h.databaseUrl!);
          else await h.cp.db.close();
          await expectThrows(h.cp.authz.pdp.decide(r, systemActor()));
          await expectThrows(h.cp.authz.pdp.evaluate(r));
          await expect(h.cp.authz.pdp.versions()).rejects.toThrow();
          const res = await evaluation(h, 'bot-a', 'read', 'ds-pub');
          if (backend === 'postgres') {
            // Through the AuthZEN API: 503 problem+json, no decision.
            expect503(res, 'store_unavailable');
          } else {
            // A closed handle fails in Kysely ("driver has already been destroyed"), not as an SqliteError, so the
            // HTTP layer answers 500 internal_error: still no decision (the table-level failure below is the 503 case).
            expect(res.status).toBeGreaterThanOrEqual(500);
            expect(res.body.decision).toBeUndefined();
          }
          if (restore) {
            // PostgreSQL back: decisions resume (the pool reconnects), from a fresh counter read.
            await restore();
            restore = undefined;
            await allowedBefore(h, r);
          }
        } finally {
          await restore?.();
          await closeQuietly(h);
        }
      });
    });
  });
}
