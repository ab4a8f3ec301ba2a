// The Cedar context of a decision, built by the server (pure). Nothing here comes from a header or from what the
// caller of an enforcement point claims: purpose, chain and binding come from the verified credential (RequestFacts),
// zone from the connection's address, posture from a verified assertion or record, time from the clock. What an
// AuthZEN caller asserts is only reachable as `context.request` (an Asserted entity), never mixed in.
import type { DevicePosture } from './devices/index.js';
import type { RequestFacts } from './contracts.js';
import { assertedRef } from './entities.js';

const AUTH_METHODS: Record<string, string> = {
  operator_token: 'operator', api_key: 'api_key', private_key_jwt: 'private_key_jwt', client_secret: 'client_secret',
  federated: 'federated', system: 'system', cli_local: 'system', none: 'none',
};

const WEEKDAYS: Record<string, string> = { Mon: 'mon', Tue: 'tue', Wed: 'wed', Thu: 'thu', Fri: 'fri', Sat: 'sat', Sun: 'sun' };
const formatters = new Map<string, Intl.DateTimeFormat>();

/** Hour (0..23) and weekday (mon..sun) of `now` in `timeZone`. */
export function localTime(now: Date, timeZone: string): { hour: number; weekday: string } {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hour: 'numeric', hourCycle: 'h23', weekday: 'short' });
    formatters.set(timeZone, f);
  }
  const parts = f.formatToParts(now);
  const hour = Number(parts.find((p) => p.type === 'hour')?.value ?? 0) % 24;
  return { hour, weekday: WEEKDAYS[parts.find((p) => p.type === 'weekday')?.value ?? ''] ?? 'mon' };
}

export interface ContextInput {
  facts: RequestFacts;
  /** The acting principal's kind: attestation counts only for non-humans. */
  principalKind: string;
  /** Names of the act chain's principals, outermost first. */
  chainNames: string[];
  zone: string;
  posture: DevicePosture;
  now: Date;
  timeZone: string;
  /** Whether the caller asserted a `context` (an Asserted entity `request` is then part of the request). */
  assertedRequest: boolean;
}

export function buildContext(input: ContextInput): Record<string, unknown> {
  const { facts, now } = input;
  const epoch = Math.floor(now.getTime() / 1000);
  const issued = facts.issuedAt ? Math.floor(facts.issuedAt.getTime() / 1000) : epoch;
  const { hour, weekday } = localTime(now, input.timeZone);
  return {
    purpose: facts.purpose ?? '',
    delegation: { depth: facts.delegationChain.length, chain: input.chainNames },
    auth: {
      method: AUTH_METHODS[facts.authMethod] ?? 'none',
      credential: facts.credentialKind,
      dpop_bound: facts.dpopBound,
      token_age_seconds: Math.max(0, epoch - issued),
    },
    provenance: {
      source_ip: facts.sourceIp ?? '',
      zone: input.zone,
      via: facts.via,
      workload_id: facts.workloadId ?? '',
      attested: facts.authMethod === 'federated' && input.principalKind !== 'human',
    },
    device: { posture: input.posture.posture, id: input.posture.id, source: input.posture.source },
    time: { epoch_seconds: epoch, hour, weekday },
    risk: { score: Math.max(0, Math.min(100, Math.round(facts.risk ?? 0))) },
    request: assertedRef(input.assertedRequest ? 'request' : 'none'),
  };
}
