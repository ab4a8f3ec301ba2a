import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDevicesPart, type DevicesPart } from '../../src/authz/devices/index.js';
import { NO_FACTS, type RequestFacts } from '../../src/authz/index.js';
import { createDeviceService } from '../../src/authz/devices/devices.service.js';
import { createPostureIssuerService } from '../../src/authz/devices/posture-issuers.service.js';
import { createRemoteKeySource } from '../../src/authz/devices/remote-keys.js';
import { createIdentityDirectory } from '../../src/identity/index.js';
import { NO_PROVENANCE, type Actor } from '../../src/platform/actor.js';
import { newId } from '../../src/platform/ids.js';
import { BACKENDS, postgresReachable } from '../support/backends.js';
import { startHarness, type Harness } from '../support/harness.js';
import { eventsSince, lastSeq } from '../identity/store-probe.js';

// The devices part on both stores: posture issuers and device records managed over the management API (audited,
// bounded, refused when wrong), and the posture a decision sees from them — a verified assertion first, then the
// record of the device the request names, else unknown; never compliant from anything stale, foreign or forged.

const ISS = 'https://mdm.devices.test';

/** The part under test, on the harness's store, finding principals through identity's directory. */
function partOf(h: Harness): DevicesPart {
  const identity = createIdentityDirectory({ db: h.cp.db });
  return createDevicesPart({
    db: h.cp.db, audit: h.cp.audit, clock: h.clock, newId,
    principals: { principal: async (ref) => identity.principalByRef(ref) },
  });
}

/** The app's routes once the authz module registers them, else the part's own. */
function withRoutes(h: Harness, part: DevicesPart): void {
  if (!h.cp.http.hasRoute({ method: 'POST', url: '/v1/devices' })) part.registerRoutes(h.cp.http);
}

const facts = (device: RequestFacts['device']): RequestFacts => ({ ...NO_FACTS, device });

for (const backend of BACKENDS) {
  describe(`device posture on ${backend}`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    let h: Harness;
    let part: DevicesPart;
    let key: { publicKey: CryptoKey; privateKey: CryptoKey };
    let jwks: { keys: JWK[] };
    let aliceId: string;
    let bobId: string;

    const sign = async (claims: JWTPayload = {}) => {
      const iat = Math.floor(h.clock.now().getTime() / 1000);
      return new SignJWT({ iss: ISS, sub: 'alice', iat, exp: iat + 900, device_id: 'mac-1', posture: 'compliant', ...claims })
        .setProtectedHeader({ alg: 'ES256', kid: 'mdm-1' }).sign(key.privateKey);
    };

    beforeAll(async () => {
      if (!enabled) return;
      h = await startHarness(backend);
      part = partOf(h);
      withRoutes(h, part);
      key = await generateKeyPair('ES256', { extractable: true });
      jwks = { keys: [{ ...(await exportJWK(key.publicKey)), kid: 'mdm-1', alg: 'ES256', use: 'sig' }] };
      aliceId = (await h.call('POST', '/v1/principals', { name: 'alice', kind: 'human', status: 'active' })).body.id;
      bobId = (await h.call('POST', '/v1/principals', { name: 'bob', kind: 'human', status: 'active' })).body.id;
    });
    afterAll(async () => { await h?.close(); });

    it.runIf(enabled)('configures posture issuers: inline public keys or a JWKS URL, audited, and refuses what it must not trust', async () => {
      const seq = await lastSeq(h);
      const created = await h.call('POST', '/v1/posture-issuers', { name: 'corp-mdm', issuer: ISS, jwks, max_age_seconds: 600, reason: 'intune rollout' });
      expect(created.status, created.text).toBe(201);
      expect(created.body).toMatchObject({ name: 'corp-mdm', issuer: ISS, jwks_uri: null, max_age_seconds: 600 });
      const remote = await h.call('POST', '/v1/posture-issuers', { name: 'edr', issuer: 'https://edr.devices.test', jwks_uri: 'https://edr.devices.test/jwks.json' });
      expect(remote.status, remote.text).toBe(201);
      expect(remote.body.max_age_seconds).toBe(3600);

      const priv = await exportJWK((await generateKeyPair('ES256', { extractable: true })).privateKey);
      const refusals: Array<[unknown, number, RegExp]> = [
        [{ name: 'corp-mdm', issuer: 'https://other.test', jwks }, 409, /already exists/],
        [{ name: 'dup-iss', issuer: ISS, jwks }, 422, /already configured as 'corp-mdm'/],
        [{ name: 'priv', issuer: 'https://priv.test', jwks: { keys: [priv] } }, 422, /private key members/],
        [{ name: 'oct', issuer: 'https://oct.test', jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] } }, 422, /symmetric/],
        [{ name: 'plain', issuer: 'http://mdm.example.com', jwks }, 422, /https/],
        [{ name: 'both', issuer: 'https://both.test', jwks, jwks_uri: 'https://both.test/jwks' }, 422, /exactly one/],
        [{ name: 'neither', issuer: 'https://neither.test' }, 422, /exactly one/],
        [{ name: 'bad-uri', issuer: 'https://u.test', jwks_uri: 'ftp://u.test/jwks' }, 422, /jwks_uri must use https/],
        [{ name: 'fresh', issuer: 'https://f.test', jwks, max_age_seconds: 10 }, 400, /max_age_seconds/],
      ];
      for (const [body, status, detail] of refusals) {
        const r = await h.call('POST', '/v1/posture-issuers', body);
        expect(r.status, r.text).toBe(status);
        expect(r.text).toMatch(detail);
      }

      const list = await h.call('GET', '/v1/posture-issuers?limit=1');
      expect(list.body.items.map((i: { name: string }) => i.name)).toEqual(['corp-mdm']);
      expect((await h.call('GET', `/v1/posture-issuers?cursor=${encodeURIComponent(list.body.next_cursor)}`)).body.items.map((i: { name: string }) => i.name)).toEqual(['edr']);
      expect((await h.call('GET', `/v1/posture-issuers/${created.body.id}`)).body.name).toBe('corp-mdm');
      expect((await h.call('DELETE', '/v1/posture-issuers/edr?reason=unused')).status).toBe(204);
      expect((await h.call('GET', '/v1/posture-issuers/edr')).status).toBe(404);
      expect((await h.call('DELETE', '/v1/posture-issuers/edr')).status).toBe(404);

      const events = (await eventsSince(h, seq)).map((e) => [e.type, e.target?.name, e.details.reason ?? null]);
      expect(events).toEqual([
        ['device.posture_issuer.added', 'corp-mdm', 'intune rollout'], ['device.posture_issuer.added', 'edr', null], ['device.posture_issuer.removed', 'edr', 'unused'],
      ]);
    });

    it.runIf(enabled)('keeps device records: report creates then replaces, list and show, bounded input, audited removal', async () => {
      const seq = await lastSeq(h);
      const first = await h.call('POST', '/v1/devices', {
        device_id: 'mac-1', principal: 'alice', posture: 'noncompliant', details: { os: 'macOS 15.5', disk_encrypted: false }, valid_for_seconds: 3600,
      });
      expect(first.status, first.text).toBe(201);
      expect(first.body).toMatchObject({ device_id: 'mac-1', principal: { id: aliceId, name: 'alice' }, posture: 'noncompliant', current: true });
      expect(Date.parse(first.body.valid_until) - h.clock.now().getTime()).toBe(3_600_000);
      const again = await h.call('PUT', '/v1/devices/mac-1', { principal: aliceId, posture: 'compliant', details: { os: 'macOS 15.5', disk_encrypted: true } });
      expect(again.status, again.text).toBe(200);
      expect(again.body).toMatchObject({ id: first.body.id, posture: 'compliant', details: { disk_encrypted: true } });
      expect((await h.call('PUT', '/v1/devices/bob-phone', { principal: 'bob', posture: 'compliant' })).status).toBe(201);

      const mine = await h.call('GET', '/v1/devices?principal=alice');
      expect(mine.body.items.map((d: { device_id: string }) => d.device_id)).toEqual(['mac-1']);
      expect((await h.call('GET', '/v1/devices?posture=compliant')).body.items).toHaveLength(2);
      expect((await h.call('GET', '/v1/devices/bob-phone')).body.principal).toEqual({ id: bobId, name: 'bob' });

      const bad: Array<[string, string, unknown, number]> = [
        ['POST', '/v1/devices', { device_id: 'x', principal: 'nobody', posture: 'compliant' }, 422],
        ['POST', '/v1/devices', { device_id: 'x', principal: 'alice', posture: 'great' }, 400],
        ['POST', '/v1/devices', { device_id: 'x', principal: 'alice', posture: 'compliant', valid_for_seconds: 30 * 86_400 }, 400],
        ['POST', '/v1/devices', { device_id: 'x', principal: 'alice', posture: 'compliant', valid_for_seconds: 10 }, 400],
        ['POST', '/v1/devices', { device_id: '../etc', principal: 'alice', posture: 'compliant' }, 400],
        ['POST', '/v1/devices', { device_id: 'x', principal: 'alice', posture: 'compliant', details: { nested: { a: 1 } } }, 400],
        ['POST', '/v1/devices', { device_id: 'x', principal: 'alice', posture: 'compliant', extra: 1 }, 400],
        ['GET', '/v1/devices?principal=nobody', undefined, 422],
        ['GET', '/v1/devices/nope', undefined, 404],
      ];
      for (const [method, url, body, status] of bad) expect((await h.call(method, url, body)).status, `${method} ${url} ${JSON.stringify(body)}`).toBe(status);

      expect((await h.call('DELETE', '/v1/devices/bob-phone?reason=wiped')).status).toBe(204);
      expect((await h.call('GET', '/v1/devices/bob-phone')).status).toBe(404);
      const events = await eventsSince(h, seq);
      expect(events.map((e) => [e.type, e.target?.name, e.details.created ?? null])).toEqual([
        ['device.reported', 'mac-1', true], ['device.reported', 'mac-1', false], ['device.reported', 'bob-phone', true], ['device.removed', 'bob-phone', null],
      ]);
      expect(events[1]!.details).toMatchObject({ posture: 'compliant', previous: { posture: 'noncompliant', principal_id: aliceId }, principal: { name: 'alice' } });
      expect(events[3]!.details.reason).toBe('wiped');
    });

    it.runIf(enabled)('lets auditors read device records and posture issuers but not change them', async () => {
      const auditor = await h.operator('dev-auditor', 'auditor');
      expect((await h.call('GET', '/v1/devices', undefined, auditor)).status).toBe(200);
      expect((await h.call('GET', '/v1/posture-issuers', undefined, auditor)).status).toBe(200);
      expect((await h.call('PUT', '/v1/devices/mac-9', { principal: 'alice', posture: 'compliant' }, auditor)).status).toBe(403);
      expect((await h.call('DELETE', '/v1/posture-issuers/corp-mdm', undefined, auditor)).status).toBe(403);
      const security = await h.operator('dev-security', 'security');
      expect((await h.call('PUT', '/v1/devices/mac-9', { principal: 'alice', posture: 'unknown' }, security)).status).toBe(201);
    });

    it.runIf(enabled)('keeps whom to trust to operators: a device reporter\'s token cannot add or remove posture issuers', async () => {
      const issuers = createPostureIssuerService({ db: h.cp.db, audit: h.cp.audit, clock: h.clock, newId, remoteKeys: createRemoteKeySource() });
      const reporter: Actor = {
        principal: { id: bobId, name: 'bob', kind: 'service_account', status: 'active', ownerId: null }, credential: { id: 'tok-1', kind: 'access_token' },
        authMethod: 'private_key_jwt', role: null, teamIds: [], scope: ['devices:write'], purpose: null, audience: null, binding: null,
        delegationChain: [], provenance: NO_PROVENANCE, label: null,
      };
      const refused = await issuers.create(reporter, { name: 'sneaky', issuer: 'https://sneaky.test', jwks }).then(() => undefined, (e: unknown) => e);
      expect(refused).toMatchObject({ code: 'forbidden' });
      expect(await issuers.remove(reporter, 'corp-mdm', undefined).then(() => undefined, (e: unknown) => e)).toMatchObject({ code: 'forbidden' });
      expect((await h.call('GET', '/v1/posture-issuers/corp-mdm')).status).toBe(200);
    });

    it.runIf(enabled)('lets only operators and service accounts report or remove posture, whatever scopes another principal\'s token holds', async () => {
      const devices = createDeviceService({ db: h.cp.db, audit: h.cp.audit, clock: h.clock, newId, principals: { principal: async (ref) => createIdentityDirectory({ db: h.cp.db }).principalByRef(ref) } });
      const tokenOf = (kind: string): Actor => ({
        principal: { id: bobId, name: 'bob', kind, status: 'active', ownerId: null }, credential: { id: 'tok-2', kind: 'access_token' },
        authMethod: 'private_key_jwt', role: null, teamIds: [], scope: ['devices:write'], purpose: null, audience: null, binding: null,
        delegationChain: [], provenance: NO_PROVENANCE, label: null,
      });
      for (const kind of ['agent', 'workload', 'human', 'training_job']) {
        const refused = await devices.report(tokenOf(kind), { device_id: 'forge-1', principal: 'alice', posture: 'compliant' }).then(() => undefined, (e: unknown) => e);
        expect(refused, kind).toMatchObject({ code: 'forbidden', message: expect.stringMatching(new RegExp(`kind '${kind}'`)) });
        expect(await devices.remove(tokenOf(kind), 'mac-1', undefined).then(() => undefined, (e: unknown) => e), kind).toMatchObject({ code: 'forbidden' });
      }
      expect((await h.call('GET', '/v1/devices/forge-1')).status).toBe(404);
      expect((await h.call('GET', '/v1/devices/mac-1')).status).toBe(200);
      const mdm = await devices.report(tokenOf('service_account'), { device_id: 'mdm-1', principal: 'alice', posture: 'unknown' });
      expect(mdm).toMatchObject({ created: true, device: { device_id: 'mdm-1', reported_by: bobId } });
      await devices.remove(tokenOf('service_account'), 'mdm-1', 'cleanup');
      expect((await h.call('GET', '/v1/devices/mdm-1')).status).toBe(404);
    });

    it.runIf(enabled)('gives a decision no posture without device facts, and the named device\'s record only if it is the principal\'s and current', async () => {
      expect(await part.postureOf(aliceId, NO_FACTS)).toEqual({ posture: 'unknown', id: '', source: 'none' });
      expect(await part.postureOf(aliceId, facts({ deviceId: 'mac-1' }))).toEqual({ posture: 'compliant', id: 'mac-1', source: 'record' });
      // Bob cannot borrow Alice's laptop, and nobody gets a posture from a device nobody reported.
      expect(await part.postureOf(bobId, facts({ deviceId: 'mac-1' }))).toMatchObject({ posture: 'unknown', source: 'none' });
      expect(await part.postureOf(aliceId, facts({ deviceId: 'mac-404' }))).toMatchObject({ posture: 'unknown', source: 'none' });
      // Without a device id, no record counts (not even Alice's only one).
      expect(await part.postureOf(aliceId, facts({}))).toEqual({ posture: 'unknown', id: '', source: 'none' });
      expect(await part.postureOf(aliceId, facts({ deviceId: 'mac-9' }))).toMatchObject({ posture: 'unknown', id: 'mac-9', source: 'record' });
    });

    it.runIf(enabled)('reaches the context of a decision made by the authorization module', async () => {
      const evaluate = (device: RequestFacts['device']) => h.cp.authz.pdp.evaluate({
        principal: 'alice', action: 'audit.read', resource: { kind: 'api' }, facts: facts(device), requestId: null,
      });
      expect((await evaluate(undefined)).context.device).toEqual({ posture: 'unknown', id: '', source: 'none' });
      expect((await evaluate({ deviceId: 'mac-1' })).context.device).toEqual({ posture: 'compliant', id: 'mac-1', source: 'record' });
      expect((await evaluate({ assertion: await sign({ sub: aliceId, device_id: 'mac-3', posture: 'noncompliant' }) })).context.device)
        .toEqual({ posture: 'noncompliant', id: 'mac-3', source: 'assertion' });
      expect((await evaluate({ deviceId: 'mac-1', assertion: 'forged.or.garbage' })).context.device).toEqual({ posture: 'compliant', id: 'mac-1', source: 'record' });
    });

    it.runIf(enabled)('prefers a verified posture assertion, ignores forged or foreign ones, and stops trusting an issuer once removed', async () => {
      await h.call('PUT', '/v1/devices/mac-2', { principal: 'alice', posture: 'noncompliant', valid_for_seconds: 86_400 });
      const good = await sign({ device_id: 'mac-2' });
      expect(await part.postureOf(aliceId, facts({ assertion: good, deviceId: 'mac-2' }))).toMatchObject({ posture: 'compliant', id: 'mac-2', source: 'assertion' });
      expect(await part.postureOf(aliceId, facts({ assertion: await sign({ sub: aliceId, posture: 'noncompliant' }) }))).toMatchObject({ posture: 'noncompliant', source: 'assertion' });
      // An assertion about Alice is nothing for Bob.
      expect(await part.postureOf(bobId, facts({ assertion: good }))).toMatchObject({ posture: 'unknown', source: 'none', detail: /another principal/ });
      // A forged assertion (another key) is ignored: the record decides.
      const forger = await generateKeyPair('ES256');
      const iat = Math.floor(h.clock.now().getTime() / 1000);
      const forged = await new SignJWT({ iss: ISS, sub: 'alice', iat, exp: iat + 900, posture: 'compliant' }).setProtectedHeader({ alg: 'ES256', kid: 'mdm-1' }).sign(forger.privateKey);
      expect(await part.postureOf(aliceId, facts({ assertion: forged, deviceId: 'mac-2' }))).toMatchObject({ posture: 'noncompliant', source: 'record', detail: /assertion ignored/ });
      expect(await part.postureOf(aliceId, facts({ assertion: forged }))).toMatchObject({ posture: 'unknown', source: 'none' });

      // Freshness is judged now: the same assertion is stale after max_age_seconds, and the record past valid_until.
      h.clock.advance(601_000 + 30_000);
      expect(await part.postureOf(aliceId, facts({ assertion: good }))).toMatchObject({ posture: 'unknown', detail: /stale|expired/ });
      h.clock.advance(86_400_000);
      expect(await part.postureOf(aliceId, facts({ deviceId: 'mac-2' }))).toMatchObject({ posture: 'unknown', source: 'none', detail: /expired/ });

      const fresh = await sign();
      expect((await part.postureOf(aliceId, facts({ assertion: fresh }))).posture).toBe('compliant');
      expect((await h.call('DELETE', '/v1/posture-issuers/corp-mdm')).status).toBe(204);
      expect(await part.postureOf(aliceId, facts({ assertion: fresh }))).toMatchObject({ posture: 'unknown', detail: /not a configured posture issuer/ });
    });
  });
}
