import { GatewayRefusal } from '../call.js';
import type { Step } from '../pipeline.js';

// Step: may this principal invoke this model, now, for this purpose?
// Rules:
// - The model the client named must be a registry resource an upstream serves (the catalog reads the store on every
//   call: a re-route or an unroute applies to the next call). Otherwise 404 model_not_found — the same answer whether
//   the resource does not exist or no upstream serves it.
// - The decision point decides `invoke` on the model resource with the full context (purpose, chain, posture, zone,
//   time…); the decision is prepared here and committed with the call's record (steps/record.ts), before anything
//   is forwarded or answered. Deny is 403 model_not_allowed.
// - Then the upstream must speak the API the client called (an Anthropic model through /v1/chat/completions is 400
//   wrong_api: the gateway forwards, it does not translate) — checked after the decision, so only a caller allowed to
//   invoke the model learns which provider serves it.

export const decide: Step = async (call, deps) => {
  const route = await deps.catalog.routeFor(call.model);
  if (!route) throw new GatewayRefusal(404, 'model_not_found', `no model '${call.model.slice(0, 200)}' is served by this gateway`);
  call.route = route;
  const actor = call.actor!;
  call.decision = await deps.pdp.prepareDecision({
    principal: actor.principal!.id, action: 'invoke', resource: { kind: 'registry', ref: route.resource.id }, facts: call.facts!,
    requestId: String(call.req.id),
  }, actor);
  const { decision } = call.decision;
  deps.metrics.decision(decision.decision, decision.reasons[0]?.kind ?? 'none');
  if (decision.decision !== 'allow') {
    const why = decision.reasons.map((r) => (r.kind === 'refused' ? r.code : r.kind)).filter((v, i, a) => a.indexOf(v) === i).join(', ');
    throw new GatewayRefusal(403, 'model_not_allowed', `principal '${actor.principal!.name}' may not invoke '${route.resource.name}' (${why || 'no permit'})`);
  }
  // Only a caller allowed to invoke the model learns which provider serves it.
  if (!call.dialect.providers.has(route.upstream.provider)) {
    throw new GatewayRefusal(400, 'wrong_api', `model '${route.resource.name}' is served by an upstream of provider ${route.upstream.provider}: call it through that provider's API on this gateway`);
  }
};
