import { GatewayRefusal } from '../call.js';
import type { Step } from '../pipeline.js';

// Step: does the call fit every limit in force — the principal's, each of its teams', the model's? The enforcer
// (limits/enforcer.ts) reads the limits on every call and reserves the call's maximum against all of them at once;
// the outcome step settles on the usage the upstream reports, or releases if nothing was forwarded.
// Refusals, in the provider's shape with Retry-After:
// - 429 rate_limited: a per-minute limit (requests or tokens) is reached; 429 budget_exhausted: a daily or monthly
//   token budget is.
// - 400 exceeds_limit: the call's maximum alone is above a limit, so waiting would not help (ask for fewer tokens).

export const limits: Step = async (call, deps) => {
  const actor = call.actor!;
  const outcome = await deps.limits.reserve({
    principalId: actor.principal!.id, teamIds: actor.teamIds, resourceId: call.route!.resource.id, maxTokens: call.maxTokens,
  });
  if (outcome.ok) {
    call.reservation = outcome.reservation;
    return;
  }
  const { limit, retryAfterSeconds } = outcome;
  deps.metrics.limitHit(limit.metric);
  const target = `${limit.target.kind} ${limit.target.id}`;
  if (limit.exceedsWindow) {
    throw new GatewayRefusal(400, 'exceeds_limit', `this call may use up to ${call.maxTokens} tokens, above the ${limit.metric} limit of ${limit.value} on ${target}: ask for fewer tokens`);
  }
  const budget = limit.window === 'day' || limit.window === 'month';
  throw new GatewayRefusal(429, budget ? 'budget_exhausted' : 'rate_limited',
    `${limit.metric} limit of ${limit.value} on ${target} reached; it resets at ${limit.resetsAt}`,
    { 'retry-after': String(retryAfterSeconds) });
};
