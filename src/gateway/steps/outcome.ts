import type { GatewayCall } from '../call.js';
import type { PipelineDeps } from '../pipeline.js';

// Step (after the answer): settle the limits on the usage the upstream reported — or release the reservation when
// nothing was forwarded — and record how the call ended (`gateway.call_completed`: status, latency, input and output
// tokens, whether the client went away; a SHA-256 of the completion when content hashing is on; never its text).
// Usage the upstream did not report, or a call cut short, keeps the whole reservation counted (a budget is never
// under-counted); a call the upstream never served (unreachable, 5xx, refusing the gateway's key) is released: the
// caller is not charged.
// It runs once the answer has been sent; the event is written with the next commit (completions.ts), not one of its own.

export async function outcome(call: GatewayCall, deps: PipelineDeps): Promise<void> {
  // A call cut short (the client left, the stream broke) reported only part of its usage, if any: it is charged its
  // whole reservation — the upstream may have generated more than it said before it was cancelled.
  const complete = !call.clientAborted && !call.upstreamError;
  const used = complete && call.usage && call.usage.inputTokens !== null && call.usage.outputTokens !== null
    ? call.usage.inputTokens + call.usage.outputTokens : Number.NaN;
  if (call.reservation) {
    // Nothing was used when the upstream could not be reached, failed (5xx) or refused the gateway's own key (401/403).
    // A client that left after the call was forwarded is charged: the upstream may have received and served it.
    const s = call.upstreamStatus;
    const unreached = s === undefined && !call.clientAborted;
    const unused = !call.sentUpstream || unreached || (s !== undefined && (s >= 500 || s === 401 || s === 403));
    if (unused) await deps.limits.release(call.reservation);
    else await deps.limits.settle(call.reservation, used);
  }
  const status = call.upstreamStatus ?? null;
  const ok = status !== null && status >= 200 && status < 300 && !call.upstreamError && !call.clientAborted;
  deps.completions.add({
    type: 'gateway.call_completed', actor: call.actor!, action: 'invoke',
    target: { type: 'resource', id: call.route!.resource.id, name: call.route!.resource.name },
    purpose: call.actor!.purpose, outcome: ok ? 'success' : 'failure',
    reasons: call.upstreamError ? [call.upstreamError] : call.clientAborted ? ['client_aborted'] : [],
    details: {
      call_event: call.callEventId, api: call.dialect.api, operation: call.operation, upstream: call.route!.upstream.name,
      status, latency_ms: Math.round((performance.now() - call.startedAt) * 10) / 10, stream: call.stream,
      input_tokens: call.usage?.inputTokens ?? null, output_tokens: call.usage?.outputTokens ?? null,
      client_aborted: call.clientAborted ?? false, request_id: String(call.req.id),
      ...(call.completionSha256 ? { completion_sha256: call.completionSha256 } : {}),
    },
  });
}
