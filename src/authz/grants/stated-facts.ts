// Facts an operator states when asking "what could this principal do?" (`GET /v1/principals/{ref}/access`) or
// "why this decision?" (`POST /v1/authz/check`). They are simulated: no credential was verified and no connection
// was seen, an operator said "suppose the request carried purpose X, over a DPoP-bound token, from 10.0.0.7".
// The decision point turns them into the Cedar context like any other facts (it still looks up zone, posture,
// time and risk itself); the responses and audit events name them `simulated_facts`, so nobody mistakes an
// explanation for a request that happened. Without any statement the request has no special facts at all (no
// purpose, a bearer credential, no device, direct): the least a real request could carry. Defaults: auth method
// `none`, credential the one the method implies (none for none), no purpose, not DPoP-bound, direct, no source
// address, no workload, no chain, token age unknown, no device, risk 0.
import type { AuthMethod } from '../../platform/actor.js';
import { NO_FACTS, type RequestFacts } from '../contracts.js';

/**
 * How the principal authenticated, as policy test cases name it (`operator`); `operator_token` is kept as an alias
 * (the name the decision context uses).
 */
export const STATED_AUTH_METHODS = ['private_key_jwt', 'client_secret', 'api_key', 'federated', 'operator', 'operator_token', 'none'] as const;
export const STATED_CREDENTIALS = ['access_token', 'api_key', 'operator_token', 'none'] as const;
export type StatedAuthMethod = (typeof STATED_AUTH_METHODS)[number];
export type StatedCredential = (typeof STATED_CREDENTIALS)[number];

/** The decision context's name of a stated method (`operator` → `operator_token`). */
export function authMethodOf(method: StatedAuthMethod): AuthMethod | 'none' {
  return method === 'operator' ? 'operator_token' : method;
}

/**
 * The credential a method implies when none is stated, as policy test cases derive it: an operator token for
 * `operator`, an API key for `api_key`, nothing for `none`, an access token for the others.
 */
export function credentialOf(method: StatedAuthMethod): StatedCredential {
  const m = authMethodOf(method);
  return m === 'operator_token' ? 'operator_token' : m === 'api_key' ? 'api_key' : m === 'none' ? 'none' : 'access_token';
}

export interface StatedFacts {
  purpose?: string;
  dpopBound?: boolean;
  sourceIp?: string;
  via?: 'direct' | 'gateway';
  authMethod?: StatedAuthMethod;
  /** Without it, the credential the method implies (credentialOf); without either, none. */
  credential?: StatedCredential;
  workloadId?: string;
  /** Principal ids of the act chain, outermost first (already resolved from names). */
  delegationChain?: string[];
  tokenAgeSeconds?: number;
  deviceId?: string;
  postureAssertion?: string;
  risk?: number;
}

/** The request facts for a simulated request at `now`. */
export function factsFromStatement(s: StatedFacts, now: Date): RequestFacts {
  const device = s.deviceId !== undefined || s.postureAssertion !== undefined
    ? { ...(s.deviceId !== undefined ? { deviceId: s.deviceId } : {}), ...(s.postureAssertion !== undefined ? { assertion: s.postureAssertion } : {}) }
    : undefined;
  return {
    ...NO_FACTS,
    purpose: s.purpose ?? null,
    delegationChain: s.delegationChain ?? [],
    authMethod: authMethodOf(s.authMethod ?? 'none'),
    credentialKind: s.credential ?? credentialOf(s.authMethod ?? 'none'),
    dpopBound: s.dpopBound ?? false,
    issuedAt: s.tokenAgeSeconds === undefined ? null : new Date(now.getTime() - s.tokenAgeSeconds * 1000),
    sourceIp: s.sourceIp ?? null,
    via: s.via ?? 'direct',
    workloadId: s.workloadId ?? null,
    ...(device ? { device } : {}),
    ...(s.risk !== undefined ? { risk: s.risk } : {}),
  };
}

/**
 * What the operator stated, for responses and audit events: only what was given, a posture assertion as its
 * length (a signed token is not repeated into the log).
 */
export function describeStatement(s: StatedFacts): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (s.purpose !== undefined) out.purpose = s.purpose;
  if (s.dpopBound !== undefined) out.dpop_bound = s.dpopBound;
  if (s.sourceIp !== undefined) out.source_ip = s.sourceIp;
  if (s.via !== undefined) out.via = s.via;
  if (s.authMethod !== undefined) out.auth_method = s.authMethod;
  if (s.credential !== undefined) out.credential = s.credential;
  if (s.workloadId !== undefined) out.workload_id = s.workloadId;
  if (s.delegationChain !== undefined) out.delegation_chain = s.delegationChain;
  if (s.tokenAgeSeconds !== undefined) out.token_age_seconds = s.tokenAgeSeconds;
  if (s.deviceId !== undefined) out.device_id = s.deviceId;
  if (s.postureAssertion !== undefined) out.posture_assertion = { presented: true, length: s.postureAssertion.length };
  if (s.risk !== undefined) out.risk = s.risk;
  return out;
}
