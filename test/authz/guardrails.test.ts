import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Decision, DecisionRequest } from '../../src/authz/index.js';
import { systemActor } from '../../src/platform/actor.js';
import { API, activate, PERMIT_ALL, registry, request, seedRegistry } from '../support/authz.js';
import { BACKENDS, postgresReachable } from '../support/backends.js';
import { startHarness, type Harness } from '../support/harness.js';

// Each built-in guardrail (src/authz/cedar/guardrails.cedar) forbids what it should even when the active user policy
// permits everything, and does not forbid the legitimate neighbour case. Decisions go through the real decision
// point on a real store (`decide`, so each is also recorded).

const forbiddenBy = (d: Decision) => d.reasons.filter((r) => r.kind === 'forbid').map((r) => r.policy);

for (const backend of BACKENDS) {
  describe(`built-in guardrails (${backend})`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    let h: Harness;
    const decide = (r: DecisionRequest) => h.cp.authz.pdp.decide(r, systemActor());

    /** Denied, and among the forbidding policies is exactly the guardrail named (and no policy errored). */
    async function expectForbidden(r: DecisionRequest, guardrail: string): Promise<void> {
      const d = await decide(r);
      expect(d.decision, JSON.stringify(d.reasons)).toBe('deny');
      expect(forbiddenBy(d)).toContain(`guardrail:${guardrail}`);
      expect(d.reasons.filter((x) => x.kind === 'error')).toEqual([]);
    }
    async function expectAllowed(r: DecisionRequest): Promise<void> {
      const d = await decide(r);
      expect(d.decision, JSON.stringify(d.reasons)).toBe('allow');
      expect(d.reasons).toEqual([{ kind: 'permit', policy: 'permit-all', principal: r.principal }]);
    }

    beforeAll(async () => {
      if (!enabled) return;
      h = await startHarness(backend);
      await seedRegistry(h);
      expect((await h.call('POST', '/v1/principals', { name: 'retired', kind: 'agent', owner: 'owner-h', status: 'active' })).status).toBe(201);
      expect((await h.call('POST', '/v1/principals/retired/decommission', { reason: 'test' })).status).toBe(200);
      await activate(h, PERMIT_ALL);
    }, 60_000);
    afterAll(async () => { await h?.close(); });

    describe.runIf(enabled)('inactive-principal', () => {
      it('denies proposed, suspended and decommissioned principals everything', async () => {
        await expectForbidden(request('idle', 'invoke', registry('ds-pub')), 'inactive-principal');
        await expectForbidden(request('gone', 'read', registry('ds-pub')), 'inactive-principal');
        await expectForbidden(request('retired', 'read', registry('ds-pub')), 'inactive-principal');
        await expectForbidden(request('gone', 'audit.read', API), 'inactive-principal');
      });

      it('allows the active neighbour the same request', async () => {
        await expectAllowed(request('bot-a', 'invoke', registry('ds-pub')));
      });

      it('a suspended principal is denied the moment it is suspended, and allowed again when reactivated', async () => {
        await expectAllowed(request('bot-b', 'read', registry('ds-int')));
        expect((await h.call('POST', '/v1/principals/bot-b/suspend', { reason: 'test' })).status).toBe(200);
        await expectForbidden(request('bot-b', 'read', registry('ds-int')), 'inactive-principal');
        expect((await h.call('POST', '/v1/principals/bot-b/activate', { reason: 'test' })).status).toBe(200);
        await expectAllowed(request('bot-b', 'read', registry('ds-int')));
      });
    });

    describe.runIf(enabled)('restricted data: an allowed purpose and a DPoP-bound token', () => {
      // bot-b holds purpose fraud; ds-res (restricted) allows fraud. Agents are not subject to the posture guardrail.
      it('allows the allowed purpose over a DPoP-bound token', async () => {
        await expectAllowed(request('bot-b', 'read', registry('ds-res'), { purpose: 'fraud', dpopBound: true }));
      });

      it('denies a purpose the resource does not allow', async () => {
        await expectForbidden(request('bot-b', 'read', registry('ds-res'), { purpose: 'support', dpopBound: true }), 'restricted-needs-allowed-purpose');
      });

      it('denies when no purpose is bound to the credential', async () => {
        await expectForbidden(request('bot-b', 'read', registry('ds-res'), { purpose: null, dpopBound: true }), 'restricted-needs-allowed-purpose');
      });

      it('denies a purpose the resource allows but the principal does not hold', async () => {
        // bot-a holds only support; a token claiming fraud for it is still refused.
        await expectForbidden(request('bot-a', 'read', registry('ds-res'), { purpose: 'fraud', dpopBound: true }), 'restricted-needs-allowed-purpose');
      });

      it('denies the right purpose through a bearer (non-DPoP) token, by the bound-token guardrail alone', async () => {
        const d = await decide(request('bot-b', 'read', registry('ds-res'), { purpose: 'fraud', dpopBound: false }));
        expect(d.decision).toBe('deny');
        expect(forbiddenBy(d)).toEqual(['guardrail:restricted-needs-bound-token']);
        const apiKey = await decide(request('bot-b', 'read', registry('ds-res'), { purpose: 'fraud', dpopBound: false, authMethod: 'api_key', credentialKind: 'api_key' }));
        expect(forbiddenBy(apiKey)).toEqual(['guardrail:restricted-needs-bound-token']);
      });

      it('does not touch confidential data: a bearer token without a purpose reaches it', async () => {
        await expectAllowed(request('bot-b', 'read', registry('ds-conf')));
      });
    });

    describe.runIf(enabled)('management is for people', () => {
      const guarded = ['approve', 'policy.write', 'credential.create', 'grant.write'];

      it('denies every non-human kind the guarded management actions', async () => {
        for (const principal of ['bot-a', 'svc', 'wl']) {
          for (const action of guarded) await expectForbidden(request(principal, action, API), 'management-is-for-people');
        }
        // Even an attested workload over a DPoP-bound token.
        await expectForbidden(request('wl', 'policy.write', API, { authMethod: 'federated', dpopBound: true, workloadId: 'spiffe://example.org/wl' }), 'management-is-for-people');
      });

      it('allows a human the same actions', async () => {
        for (const action of guarded) await expectAllowed(request('ben', action, API));
      });

      it('leaves the other management actions to the user policies', async () => {
        await expectAllowed(request('bot-a', 'audit.read', API));
        await expectAllowed(request('svc', 'principal.write', API));
        await expectAllowed(request('svc', 'resource.write', API));
      });
    });

    describe.runIf(enabled)('production deploy and promote need an attested workload', () => {
      const attested = { authMethod: 'federated' as const, workloadId: 'spiffe://example.org/ci' };

      it('denies deploy and promote of a prod-labelled resource without workload attestation', async () => {
        await expectForbidden(request('wl', 'deploy', registry('m-prod')), 'prod-deploy-needs-attested-workload');
        await expectForbidden(request('svc', 'promote', registry('m-prod'), { authMethod: 'api_key', credentialKind: 'api_key' }), 'prod-deploy-needs-attested-workload');
        await expectForbidden(request('bot-a', 'deploy', registry('ds-conf'), { authMethod: 'client_secret' }), 'prod-deploy-needs-attested-workload');
      });

      it('a human is never attested, even with a federated sign-in', async () => {
        const d = await decide(request('ben', 'deploy', registry('m-prod'), attested));
        expect(d.context).toMatchObject({ provenance: { attested: false } });
        expect(forbiddenBy(d)).toContain('guardrail:prod-deploy-needs-attested-workload');
      });

      it('allows an attested non-human principal to deploy and promote to prod', async () => {
        await expectAllowed(request('wl', 'deploy', registry('m-prod'), attested));
        await expectAllowed(request('svc', 'promote', registry('m-prod'), attested));
      });

      it('does not touch other environments or other actions on prod', async () => {
        await expectAllowed(request('wl', 'deploy', registry('tool-x'))); // staging
        await expectAllowed(request('wl', 'promote', registry('ds-int'))); // dev
        await expectAllowed(request('wl', 'deploy', registry('ds-pub'))); // no environment label
        await expectAllowed(request('wl', 'invoke', registry('m-prod'))); // prod, but not a deploy
      });

      it('reads the `env` label as the environment too', async () => {
        expect((await h.call('POST', '/v1/resources', { name: 'm-env', kind: 'model', owner: 'owner-h', labels: { env: 'prod' } })).status).toBe(201);
        await expectForbidden(request('wl', 'deploy', registry('m-env')), 'prod-deploy-needs-attested-workload');
        await expectAllowed(request('wl', 'deploy', registry('m-env'), attested));
      });
    });

    describe.runIf(enabled)('a device not proven compliant keeps people away from confidential and restricted data', () => {
      it('with no device facts the posture is unknown, and a person is denied confidential and restricted data', async () => {
        const d = await decide(request('ana', 'read', registry('ds-conf')));
        expect(d.context).toMatchObject({ device: { posture: 'unknown', source: 'none' } });
        expect(d.decision).toBe('deny');
        expect(forbiddenBy(d)).toEqual(['guardrail:posture-not-compliant-no-confidential']);
        await expectForbidden(request('ana', 'read', registry('ds-res'), { purpose: 'fraud', dpopBound: true }), 'posture-not-compliant-no-confidential');
      });

      it('an unknown or unverifiable device reference is still unknown posture', async () => {
        await expectForbidden(request('ana', 'read', registry('ds-conf'), { device: { deviceId: 'no-such-device' } }), 'posture-not-compliant-no-confidential');
        await expectForbidden(request('ana', 'read', registry('ds-conf'), { device: { assertion: 'not.a.jwt' } }), 'posture-not-compliant-no-confidential');
      });

      it('does not touch internal or public data, nor non-human principals', async () => {
        await expectAllowed(request('ana', 'read', registry('ds-int')));
        await expectAllowed(request('ana', 'read', registry('ds-pub')));
        await expectAllowed(request('bot-b', 'read', registry('ds-conf')));
      });

      it('a fresh device record of the acting person lifts it; another person\'s device or a stale record does not', async () => {
        const report = (device_id: string, principal: string, posture: string, extra: Record<string, unknown> = {}) =>
          h.call('POST', '/v1/devices', { device_id, principal, posture, ...extra });
        expect((await report('ana-laptop', 'ana', 'compliant')).status).toBe(201);
        expect((await report('ana-old', 'ana', 'noncompliant')).status).toBe(201);
        expect((await report('ana-tablet', 'ana', 'compliant', { valid_for_seconds: 60 })).status).toBe(201);

        const compliant = await decide(request('ana', 'read', registry('ds-conf'), { device: { deviceId: 'ana-laptop' } }));
        expect(compliant.context).toMatchObject({ device: { posture: 'compliant', id: 'ana-laptop', source: 'record' } });
        expect(compliant.decision).toBe('allow');
        // A device reported noncompliant is known bad: refused like no evidence at all.
        await expectForbidden(request('ana', 'read', registry('ds-conf'), { device: { deviceId: 'ana-old' } }), 'posture-not-compliant-no-confidential');
        // ana's laptop presented by ben is not ben's device: unknown.
        await expectForbidden(request('ben', 'read', registry('ds-conf'), { device: { deviceId: 'ana-laptop' } }), 'posture-not-compliant-no-confidential');
        // A record past its validity is stale: unknown.
        await expectAllowed(request('ana', 'read', registry('ds-conf'), { device: { deviceId: 'ana-tablet' } }));
        h.clock.advance(61_000);
        await expectForbidden(request('ana', 'read', registry('ds-conf'), { device: { deviceId: 'ana-tablet' } }), 'posture-not-compliant-no-confidential');
      });

      it('only a compliant posture reaches confidential data: a noncompliant device is refused like an unknown one', async () => {
        // The context the server built, with only the device posture changed, evaluated against the active set.
        const built = (await decide(request('ana', 'read', registry('ds-conf')))).context as { device: Record<string, unknown> };
        for (const [posture, expected] of [['compliant', 'allow'], ['noncompliant', 'deny'], ['unknown', 'deny']] as const) {
          const context = { ...built, device: { ...built.device, posture, source: 'record', id: 'dev-1' } };
          const d = await h.cp.authz.pdp.evaluate(request('ana', 'read', registry('ds-conf')), { context });
          expect(d.decision, posture).toBe(expected);
          if (expected === 'deny') expect(forbiddenBy(d)).toEqual(['guardrail:posture-not-compliant-no-confidential']);
        }
      });
    });
  });
}
