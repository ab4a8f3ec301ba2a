import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ASSET_ACTIONS } from '../../src/authz/index.js';
import { activate, facts, PRINCIPALS, registry, request, RESOURCES, seedRegistry } from '../support/authz.js';
import { startHarness, type Harness } from '../support/harness.js';

// The active set is evaluated with entities and context trimmed to what it can read (src/authz/usage.ts); the same
// text evaluated as a candidate gets everything. For every principal × resource × action of the fixture, under policy
// sets that read attributes, tags (literal and computed keys), parents, assertions and the context, the two must give
// the same decision, reasons and verdicts.

const SETS: Record<string, string> = {
  attributes: [
    '@id("team-owned") permit (principal, action in [Custos::Action::"read", Custos::Action::"invoke"], resource) when { resource.purposes.contains(context.purpose) && principal.purposes.contains(context.purpose) };',
    '@id("clearance") forbid (principal, action == Custos::Action::"write", resource) unless { principal.hasTag("clearance") && principal.getTag("clearance") == "high" };',
    '@id("writers") permit (principal, action == Custos::Action::"write", resource in Custos::Dataset::"coll");',
  ].join('\n'),
  computedTags: '@id("env-match") permit (principal, action, resource) when { resource.hasTag("environment") && principal.hasTag(resource.getTag("environment")) };',
  context: '@id("zone") permit (principal, action == Custos::Action::"invoke", resource) when { context.auth.dpop_bound && context.time.hour >= 0 && context.device.posture != "compliant" };',
  asserted: '@id("asserted") permit (principal, action == Custos::Action::"read", resource) when { context.request.hasTag("ticket") && resource.classification_rank <= 1 };',
  erroring: '@id("erroring") permit (principal, action, resource) when { principal.getTag("clearance") == "low" };',
};

describe('trimmed entities decide like whole ones', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness('sqlite'); await seedRegistry(h); }, 60_000);
  afterAll(async () => { await h?.close(); });

  for (const [name, text] of Object.entries(SETS)) {
    it(`policy set '${name}'`, async () => {
      await activate(h, text);
      let compared = 0;
      for (const p of PRINCIPALS) for (const r of RESOURCES) for (const action of ASSET_ACTIONS.slice(0, 4)) {
        for (const f of [facts({ purpose: 'support' }), facts({ purpose: 'fraud', dpopBound: true })]) {
          const req = { ...request(p.name, action, registry(r.name), f), asserted: { context: { ticket: 'T-1' } } };
          const active = await h.cp.authz.pdp.evaluate(req);
          const whole = await h.cp.authz.pdp.evaluate(req, { candidate: { text, label: active.policyVersion } });
          expect({ decision: active.decision, reasons: active.reasons, verdicts: active.verdicts }, `${p.name} ${action} ${r.name}`)
            .toEqual({ decision: whole.decision, reasons: whole.reasons, verdicts: whole.verdicts });
          compared++;
        }
      }
      expect(compared).toBe(PRINCIPALS.length * RESOURCES.length * 4 * 2);
    });
  }
});
