import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DecisionRequest, Pdp } from '../../src/authz/index.js';
import { NO_POSTURE, type DevicePosture } from '../../src/authz/devices/posture.js';
import { createPdp } from '../../src/authz/pdp.js';
import { combinePolicyFiles } from '../../src/authz/policies/sources.js';
import { policyIds } from '../../src/authz/policies/validation.js';
import { createSnapshotSource } from '../../src/authz/snapshot.js';
import { readVersions } from '../../src/authz/snapshot.repo.js';
import { systemActor } from '../../src/platform/actor.js';
import { activate, facts, registry } from '../support/authz.js';
import { startHarness, type Harness } from '../support/harness.js';
import { createAgent, tokenFor } from '../support/oauth.js';

// Security review of the authorization module (issue 11). Each test demonstrates one finding of the review and
// fails until the finding is fixed; the review report names the file and line of each, the exploit and the fix.
// Everything runs on SQLite: none of the findings depends on the store. The last describe poisons the process-wide
// Cedar engine (that is the finding), so it must stay last in this file.

/** The user policies every test here runs under (targeted, so grants and guardrails stay what decides elsewhere). */
const POLICIES = [
  '@id("nina-reads-conf")\npermit (principal == Custos::Human::"nina", action == Custos::Action::"read", resource == Custos::Dataset::"ds-conf");',
  '@id("todo-readers")\npermit (principal, action == Custos::Action::"read", resource is Custos::AppResource)\n'
    + 'when { resource.type == "todo" && (principal.name == "alice" || principal.name == "carol") };',
].join('\n');

describe('security review of the authorization module (sqlite)', () => {
  let h: Harness;
  let auditorToken: string;

  const post = (url: string, body: unknown, token: string | null = h.adminToken) => h.call('POST', url, body, token);
  const ok = async (method: string, url: string, body: unknown, status = 201, token?: string) => {
    const r = await h.call(method, url, body, token);
    expect(r.status, `${method} ${url}: ${r.text}`).toBe(status);
    return r.body;
  };

  beforeAll(async () => {
    h = await startHarness('sqlite');
    await ok('POST', '/v1/principals', { name: 'owner-x', kind: 'human' });
    for (const name of ['alice', 'nina']) await ok('POST', '/v1/principals', { name, kind: 'human' });
    await ok('POST', '/v1/principals', { name: 'carol', kind: 'human', labels: { authzen_id: 'carol@example.com' } });
    for (const name of ['g-bot', 'filler-bot']) await ok('POST', '/v1/principals', { name, kind: 'agent', owner: 'owner-x', status: 'active' });
    await ok('POST', '/v1/resources', { name: 'm1', kind: 'model', owner: 'owner-x', classification: 'internal' });
    await ok('POST', '/v1/resources', { name: 'm2', kind: 'model', owner: 'owner-x', classification: 'internal' });
    await ok('POST', '/v1/resources', { name: 'ds-conf', kind: 'dataset', owner: 'owner-x', classification: 'confidential' });
    auditorToken = await h.operator('op-auditor', 'auditor');
    await activate(h, POLICIES);
  }, 60_000);
  afterAll(async () => { await h?.close(); });

  // ---- F2: parsed-set slot race ------------------------------------------------------------------------------
  // snapshot.ts createParsedSetSlots + pdp.ts prepare/run: the engine id of the parsed set is taken in `prepare`
  // (the `policySetId` getter re-parses a slot when another version took it) and used later in `run`, after an
  // `await`. A decision still holding an older snapshot whose version shares the slot (versions ≡ mod 8) re-parses
  // ITS set into the slot in between, and the newer decision is evaluated against the old policy set — here one
  // that still holds a revoked grant.
  it('F2: a decision on the current snapshot is never evaluated against an older policy set sharing its engine slot (revoked grant must not allow)', async () => {
    const gates: Array<() => void> = [];
    let hold = false;
    const pdp: Pdp = createPdp({
      db: h.cp.db, audit: h.cp.audit, clock: h.clock, snapshots: createSnapshotSource({ db: h.cp.db, clock: h.clock }),
      postureOf: () => (hold ? new Promise<DevicePosture>((resolve) => gates.push(() => resolve(NO_POSTURE))) : Promise.resolve(NO_POSTURE)),
      zoneOf: () => '', timeZone: 'UTC',
    });
    const req: DecisionRequest = { principal: 'g-bot', action: 'invoke', resource: registry('m1'), facts: facts(), requestId: null };
    const grant = await ok('POST', '/v1/grants', { principal: 'g-bot', resource: 'm1', actions: ['invoke'], duration_seconds: 3600, reason: 'review' });
    expect((await pdp.evaluate(req)).decision).toBe('allow');
    const v0 = (await readVersions(h.cp.db.kysely)).policies;

    // A: a decision that took its snapshot (with the grant) and waits on its posture lookup.
    hold = true;
    const a = pdp.evaluate(req);
    while (gates.length < 1) await new Promise((r) => setImmediate(r));

    // The grant is revoked; other grant writes move the policy counter to the same slot (v0 + 8k).
    await ok('POST', `/v1/grants/${grant.id}/revoke`, { reason: 'incident' }, 200);
    while (((await readVersions(h.cp.db.kysely)).policies - v0) % 8 !== 0) {
      await ok('POST', '/v1/grants', { principal: 'filler-bot', resource: 'm2', actions: ['read'], duration_seconds: 3600, reason: 'filler' });
    }

    // B: a decision on the current snapshot (the grant revoked).
    const vNow = (await readVersions(h.cp.db.kysely)).policies;
    const b = pdp.evaluate(req);
    while (gates.length < 2) await new Promise((r) => setImmediate(r));
    gates[1]!();
    gates[0]!();
    const decided = await b;
    await a;
    expect(decided.policyVersion.endsWith(`.${vNow}`)).toBe(true); // B names the current version...
    expect(decided.decision, JSON.stringify(decided.reasons)).toBe('deny'); // ...and must not be allowed by the revoked grant
  });

  // ---- F3: candidate verdicts served to another candidate -----------------------------------------------------
  // pdp.ts candidateSetId: candidate numbers restart from candidateKeys.size after the map is cleared (> 1024
  // keys), but the verdict cache (keyed `candidate:<n>:<policies version>`) is not cleared, so a new candidate text
  // gets the number of an old one and is answered with the old text's cached verdicts. Policy tests at activation
  // and impact replays then report decisions of a different policy text.
  it('F3: a candidate policy text is never answered with the cached verdicts of another candidate text', async () => {
    const pdp = createPdp({
      db: h.cp.db, audit: h.cp.audit, clock: h.clock, snapshots: createSnapshotSource({ db: h.cp.db, clock: h.clock }),
      postureOf: async () => NO_POSTURE, zoneOf: () => '', timeZone: 'UTC',
    });
    const req: DecisionRequest = { principal: 'g-bot', action: 'invoke', resource: registry('m2'), facts: facts(), requestId: null };
    const context = (await pdp.evaluate(req)).context;
    const run = (text: string, label: string) => pdp.evaluate(req, { candidate: { text, label }, context });
    await run('@id("filler-0")\npermit (principal == Custos::Agent::"nobody-0", action, resource);', 'candidate:filler-0');
    expect((await run('@id("permit-all")\npermit (principal, action, resource);', 'candidate:permissive')).decision).toBe('allow');
    for (let i = 2; i <= 1025; i++) await run(`@id("filler-${i}")\npermit (principal == Custos::Agent::"nobody-${i}", action, resource);`, `candidate:filler-${i}`);
    const strict = await run('@id("forbid-all")\nforbid (principal, action, resource);', 'candidate:strict');
    expect(strict.decision, JSON.stringify(strict.reasons)).toBe('deny');
  }, 120_000);

  // ---- F4: a noncompliant device passes the posture guardrail -------------------------------------------------
  // guardrails.cedar `guardrail:unknown-posture-no-confidential` forbids only posture == "unknown": a person whose
  // MDM reported the device NONcompliant gets past it simply by naming that device, while presenting nothing is
  // refused. Known-bad evidence must never open more than no evidence. (Conflicts with guardrails.test.ts "a
  // compliant (or noncompliant) posture is not what this guardrail forbids": that expectation is the finding.)
  it('F4: a person on a device reported noncompliant does not reach confidential data (no more than with unknown posture)', async () => {
    await ok('PUT', '/v1/devices/nina-phone', { principal: 'nina', posture: 'noncompliant', valid_for_seconds: 3600 }, 201);
    const unknown = await h.cp.authz.pdp.decide({ principal: 'nina', action: 'read', resource: registry('ds-conf'), facts: facts(), requestId: null }, systemActor());
    expect(unknown.decision).toBe('deny');
    const noncompliant = await h.cp.authz.pdp.decide({
      principal: 'nina', action: 'read', resource: registry('ds-conf'), facts: facts({ device: { deviceId: 'nina-phone' } }), requestId: null,
    }, systemActor());
    expect(noncompliant.context.device).toMatchObject({ posture: 'noncompliant', source: 'record' });
    expect(noncompliant.decision, JSON.stringify(noncompliant.reasons)).toBe('deny');
  });

  // ---- F5: application objects collide on their Cedar uid (and in the verdict cache) --------------------------
  // entities.ts appResourceEntity: the uid is `${type}/${id}`, so {type: "todo", id: "a/b"} and {type: "todo/a",
  // id: "b"} are the same Cedar entity for policies and the same verdict-cache key (pdp.ts verdictFor keys on the
  // uid, not on the type and id attributes the policy reads). The second object is answered with the first's verdict.
  it('F5: two different application objects are never decided as one (type/id with "/" must not collide)', async () => {
    const ask = (type: string, id: string) => post('/access/v1/evaluation', { subject: { type: 'user', id: 'alice' }, action: { name: 'read' }, resource: { type, id } });
    expect((await ask('todo', 'a/b')).body).toMatchObject({ decision: true });
    const other = await ask('todo/a', 'b');
    expect(other.status).toBe(200);
    expect(other.body.decision, JSON.stringify(other.body)).toBe(false); // resource.type is "todo/a": no policy permits it
  });

  // ---- F6: any principal kind holding devices:write reports posture --------------------------------------------
  // operators/roles.ts SELF_SERVICE_SCOPES + devices.routes.ts: `devices:write` maps to device.write for any
  // principal whose token carries it (the AuthZEN part checks kind === service_account for authz:evaluate; the
  // devices part does not). An agent holding the scope reports a person's device as compliant, i.e. forges the
  // posture the guardrail trusts, for anyone.
  it('F6: an agent (not an MDM service account) cannot report device posture even with the devices:write scope', async () => {
    const bot = await createAgent(h, 'rogue-bot', { scopes: ['devices:write'], purposes: [] });
    const t = await tokenFor(h, bot, { scope: 'devices:write' });
    expect(t.status, t.text).toBe(200);
    const r = await h.call('PUT', '/v1/devices/alice-laptop', { principal: 'alice', posture: 'compliant' }, t.body.access_token);
    expect(r.status, r.text).toBe(403);
  });

  // ---- F7: authzen_id squatting by an owner -------------------------------------------------------------------
  // authzen.service.ts findPrincipal + aliases.repo.ts: an alias resolves only when exactly one principal carries
  // it, and any owner-role operator may label the (even merely proposed) principals it registers. Labelling one's
  // own agent with a person's authzen_id makes that person unknown to every PEP that addresses them by it.
  it('F7: an owner cannot make a person unaddressable by squatting their authzen_id on an agent it registers', async () => {
    const ownerToken = await h.operator('own-op', 'owner');
    await h.call('POST', '/v1/principals', { name: 'squat-bot', kind: 'agent', owner: 'own-op', labels: { authzen_id: 'carol@example.com' } }, ownerToken);
    const r = await post('/access/v1/evaluation', { subject: { type: 'user', id: 'carol@example.com' }, action: { name: 'read' }, resource: { type: 'todo', id: '7' } });
    expect(r.status).toBe(200);
    expect(r.body, JSON.stringify(r.body)).toEqual({ decision: true });
  });

  // ---- F8: a principal asking about itself learns which registry resources exist ---------------------------------
  // mapping.ts answerOf: a refusal adds `error: {status: 404, message: "no such resource"}` for everybody, including
  // a principal asking about itself (which has no access to the registry catalogue). Denied-but-existing and
  // nonexistent resources must look the same to it (a 403 must not reveal what a 404 would hide).
  it('F8: a self-asking principal cannot tell a nonexistent resource from one it is denied', async () => {
    const bot = await createAgent(h, 'nosy-bot', { scopes: ['models:invoke'], purposes: [] });
    const t = await tokenFor(h, bot, {});
    expect(t.status, t.text).toBe(200);
    const ask = (id: string) => post('/access/v1/evaluation', { action: { name: 'invoke' }, resource: { type: 'model', id } }, t.body.access_token);
    const existing = await ask('m1');
    const missing = await ask('no-such-model');
    expect(existing.body.decision).toBe(false);
    expect(missing.body.decision).toBe(false);
    const shape = (c: Record<string, unknown>) => { const { id: _id, ...rest } = c; return rest; };
    expect(shape(missing.body.context)).toEqual(shape(existing.body.context));
  });

  // ---- F9: an admin grants access to an agent it owns ---------------------------------------------------------
  // grants.service.ts createGrant: "nobody grants to themselves" compares only the grantee with the actor, so an
  // admin grants its own agent (whose credentials it manages as owner) and acts through it: self-granting through
  // an owned agent, which invariant 6 forbids for approvals.
  it('F9: an admin cannot grant access to an agent it owns (self-grant through an owned agent)', async () => {
    const adm = await h.operator('adm-two', 'admin');
    await ok('POST', '/v1/principals', { name: 'adm-two-bot', kind: 'agent', owner: 'adm-two', status: 'active' });
    const r = await h.call('POST', '/v1/grants', { principal: 'adm-two-bot', resource: 'm2', actions: ['invoke'], duration_seconds: 3600, reason: 'mine' }, adm);
    expect(r.status, r.text).toBe(403);
  });

  // ---- F10: a file name becomes Cedar policy text --------------------------------------------------------------
  // sources.ts combinePolicyFiles writes `// file: <path>` unescaped. Git and POSIX allow newlines in file names,
  // so a file named "x\npermit (principal, action, resource);\n//.cedar" (extname .cedar) injects a policy that
  // no file contains: `custos policy validate` checks each file's text (not its name) and passes, `apply` sends the
  // combined text, and the server stores and activates the injected permit.
  it('F10: the combined text of a policy repository holds exactly the policies of its files (a path cannot inject Cedar)', () => {
    const benign = '@id("read-docs")\npermit (principal, action == Custos::Action::"read", resource) when { false };\n';
    const files = [
      { path: 'policies/a.cedar', text: benign },
      { path: 'policies/b\n@id("injected") permit (principal, action, resource);\n//.cedar', text: '@id("other")\nforbid (principal, action, resource) when { false };\n' },
    ];
    expect(policyIds(combinePolicyFiles(files))).toEqual(['read-docs', 'other']);
  });

  // ---- F1: one small policy text disables the decision point (process-wide) ----------------------------------
  // cedar.ts splitPolicies/validatePolicyText pass untrusted text straight to the engine. Cedar's parser and
  // validator recurse per nesting level / operator: ~200 nested parentheses (450 bytes) or a long `||` chain overflow
  // the WASM stack, and the engine is left corrupted ("memory access out of bounds") for EVERY later call in the
  // process — all decisions then deny/fail until restart. POST /v1/policies/impact needs only policy.read, so an
  // auditor can do it. MUST STAY LAST: it poisons the Cedar engine of this test process.
  describe('F1: hostile policy text (keep last)', () => {
    it('F1: an auditor\'s impact request with deeply nested Cedar does not break later decisions', async () => {
      const allowed = { subject: { type: 'user', id: 'alice' }, action: { name: 'read' }, resource: { type: 'todo', id: '1' } };
      expect((await post('/access/v1/evaluation', allowed)).body).toEqual({ decision: true });
      const nested = `permit (principal, action, resource) when { ${'('.repeat(300)}true${')'.repeat(300)} };`;
      const r = await post('/v1/policies/impact', { policies: nested }, auditorToken);
      expect(r.status, r.text).toBeLessThan(500); // refused as input (422), not a crash
      // A request not decided before (so no memoised verdict answers it): the engine itself must still work.
      const after = await post('/access/v1/evaluation', { ...allowed, resource: { type: 'todo', id: '2' } });
      expect(after.status, after.text).toBe(200);
      expect(after.body).toEqual({ decision: true });
    });
  });
});
