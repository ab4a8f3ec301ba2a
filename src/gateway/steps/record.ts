import crypto from 'node:crypto';
import type { AuditInput } from '../../audit/index.js';
import type { GatewayCall } from '../call.js';
import type { PipelineDeps, Step } from '../pipeline.js';

// Step: the call's record, committed before the first byte goes back to the client (audit before response). One group-committed transaction holds the decision (`authz.decision`) and the
// call (`gateway.call`: principal, chain, purpose, model, upstream, stream, the decision event). A refused call is
// recorded the same way, with the refusal's reason code, before the refusal is answered (pipeline.ts).
// No prompt text is recorded; with content hashing on (--gateway-hash-content), a SHA-256 of the prompt is.

const PROMPT_FIELDS = ['system', 'instructions', 'messages', 'input', 'prompt'] as const;

export function promptSha256(body: Record<string, unknown>): string {
  const prompt: Record<string, unknown> = {};
  for (const f of PROMPT_FIELDS) if (body[f] !== undefined) prompt[f] = body[f];
  return crypto.createHash('sha256').update(JSON.stringify(prompt)).digest('hex');
}

export function callEvent(call: GatewayCall, deps: Pick<PipelineDeps, 'hashContent'>, refusal?: { code: string; status: number; message: string }): AuditInput {
  const route = call.route;
  const decision = call.decision?.decision;
  return {
    type: 'gateway.call', actor: call.actor!, action: 'invoke',
    target: route ? { type: 'resource', id: route.resource.id, name: route.resource.name } : { type: 'resource', id: null, name: call.model?.slice(0, 200) ?? null },
    // The decision point's verdict when it was asked; a refusal before it (a bad body, an unknown model) has none.
    decision: decision?.decision ?? null,
    reasons: refusal ? [refusal.code] : [],
    policyVersion: decision?.policyVersion ?? null,
    purpose: call.actor!.purpose,
    outcome: refusal ? 'failure' : 'success',
    details: {
      api: call.dialect.api, operation: call.operation, model: call.model?.slice(0, 200) ?? null,
      upstream: route ? { id: route.upstream.id, name: route.upstream.name, provider: route.upstream.provider } : null,
      provider_model: route?.providerModel ?? null, stream: call.stream ?? false, max_tokens: call.maxTokens ?? null,
      request_id: String(call.req.id),
      ...(refusal ? { status: refusal.status, reason_code: refusal.code, message: refusal.message } : {}),
      ...(deps.hashContent && call.body ? { prompt_sha256: promptSha256(call.body) } : {}),
    },
  };
}

/** Commits the prepared decision (if any) and the call event together; returns the call event's id. */
export async function commitCall(call: GatewayCall, deps: PipelineDeps, refusal?: { code: string; status: number; message: string }): Promise<string> {
  return deps.db.write(async (trx, batch) => {
    const decisionEvent = call.decision ? await call.decision.record(trx, batch) : null;
    // Earlier calls' completion events ride along (completions.ts): one commit a call.
    await deps.completions.drainInto(trx, batch);
    const event = callEvent(call, deps, refusal);
    if (decisionEvent) event.details = { ...event.details, decision_event: decisionEvent.id };
    return (await deps.audit.record(trx, batch, event)).id;
  });
}

// The commit runs while the call is forwarded (the upstream's answer takes far longer than a commit), and the forward
// step waits for it before the first byte goes back; if it fails, the upstream request is cancelled and the client
// gets 503 — never an answer whose record is not durable.
export const record: Step = async (call, deps) => {
  const started = performance.now();
  call.recorded = commitCall(call, deps).then((id) => {
    call.callEventId = id;
    deps.metrics.step('record', (performance.now() - started) / 1000);
  });
  // Awaited by forward (or by the pipeline before any answer); this only keeps an early failure from being unhandled.
  call.recorded.catch(() => undefined);
};
