import type { GatewayCall } from './call.js';

// `Server-Timing: custos;dur=<ms>` (W3C Server Timing): the gateway's own time on a call, so users can see what it
// adds. Not streaming: everything but the wait for the upstream; streaming: the time until the call was forwarded
// (what a client waits for beyond the upstream's first byte). The upstream's own time is `upstream;dur=` when known.

export function serverTiming(call: Pick<GatewayCall, 'startedAt'>, forwardedAt?: number, upstreamMs?: number): string {
  const now = performance.now();
  const total = now - call.startedAt;
  const own = forwardedAt === undefined ? total : upstreamMs === undefined ? forwardedAt - call.startedAt : total - upstreamMs;
  const parts = [`custos;dur=${own.toFixed(3)}`];
  if (upstreamMs !== undefined) parts.push(`upstream;dur=${upstreamMs.toFixed(3)}`);
  return parts.join(', ');
}
