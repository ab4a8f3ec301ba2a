// AuthZEN ↔ decision point (pure). How an AuthZEN request becomes a DecisionRequest and a Decision an AuthZEN
// answer. Rules:
// - Subject type is a principal kind; "user" is an alias of human. Any other type names no principal.
// - Resource type: a Custos resource kind addresses the registry (id or name, narrowed to that kind); `custos_api`
//   the Custos API itself (the management actions); anything else is an application's object, known only by what
//   the caller says about it.
// - What the caller sends in `properties` and `context` is asserted: policies see it as `principal.asserted`,
//   `resource.asserted` and `context.request` (action properties as the `action.properties` tag there), never
//   mixed with registry attributes or the server-built context. `subject.properties.token` is never asserted: it
//   is a credential, verified and turned into RequestFacts (tokenFacts below).
// - A token's acting principal is the outermost `act.sub` (or `sub` when not delegated); the rest of the chain,
//   outermost first, is the delegation chain every principal of which must be permitted (RFC 8693 §4.1, the same
//   rule as the verifier's Actor).
// - An allow is `{decision: true}`; a deny carries `context.id` (the audit event), `reason_user`, and for callers
//   who may see policy names (operators, evaluators) `reason_admin`; a refusal adds `error: {status, message}` and
//   keys both reasons by that status. A principal asking about itself never learns from a refusal whether a registry
//   resource exists (answerOf).
import type { AccessTokenClaims } from '../../credentials/index.js';
import type { AuthMethod } from '../../platform/actor.js';
import { PRINCIPAL_KINDS, RESOURCE_KINDS } from '../../identity/index.js';
import type { Asserted, Decision, DecisionReason, RequestFacts, ResourceTarget } from '../contracts.js';
import type { DecisionOut } from './authzen.schemas.js';

export const API_RESOURCE_TYPE = 'custos_api';
export const ALIAS_LABEL = 'authzen_id';

const PRINCIPAL_KIND_SET = new Set<string>(PRINCIPAL_KINDS);
const RESOURCE_KIND_SET = new Set<string>(RESOURCE_KINDS);

/** The principal kind an AuthZEN subject type names, or null when it names none. */
export function principalKindOf(type: string): string | null {
  if (type === 'user') return 'human';
  return PRINCIPAL_KIND_SET.has(type) ? type : null;
}

export function isRegistryResourceType(type: string): boolean {
  return RESOURCE_KIND_SET.has(type);
}

export function resourceTargetOf(resource: { type: string; id: string }): ResourceTarget {
  if (isRegistryResourceType(resource.type)) return { kind: 'registry', ref: resource.id, resourceKind: resource.type };
  if (resource.type === API_RESOURCE_TYPE) return { kind: 'api' };
  return { kind: 'app', type: resource.type, id: resource.id };
}

/** Subject properties without the credential: the token is verified, never asserted. */
export function subjectAssertions(properties: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!properties) return undefined;
  const { token: _token, ...rest } = properties;
  return Object.keys(rest).length ? rest : undefined;
}

export function assertedOf(input: {
  subject?: Record<string, unknown>;
  resource?: Record<string, unknown>;
  context?: Record<string, unknown>;
  actionProperties?: Record<string, unknown>;
}): Asserted | undefined {
  const out: Asserted = {};
  const subject = subjectAssertions(input.subject);
  if (subject) out.subject = subject;
  if (input.resource) out.resource = input.resource;
  if (input.context || input.actionProperties) {
    out.context = { ...input.context, ...(input.actionProperties ? { 'action.properties': input.actionProperties } : {}) };
  }
  return Object.keys(out).length ? out : undefined;
}

/** The acting principal and the delegation chain of a token (ids; chain outermost first, without the actor). */
export function actingOf(claims: Pick<AccessTokenClaims, 'sub' | 'act'>): { principal: string; chain: string[] } {
  const acts: string[] = [];
  for (let a = claims.act; a; a = a.act) acts.push(a.sub);
  if (acts.length === 0) return { principal: claims.sub, chain: [] };
  return { principal: acts[0]!, chain: [claims.sub, ...acts.slice(1).reverse()] };
}

const TOKEN_AUTH_METHODS: readonly AuthMethod[] = ['private_key_jwt', 'client_secret', 'federated', 'api_key', 'operator_token'];

/**
 * RequestFacts from a token the PEP received from its caller (verified by ctx.inspectToken first). The PEP is trusted
 * to have checked the DPoP proof of a bound token (it holds `authz:evaluate`): `dpopBound` says the token is bound.
 * The source address is unknown (the PEP's own address is not its caller's).
 */
export function tokenFacts(claims: AccessTokenClaims): RequestFacts {
  const amr = claims.amr?.[0];
  return {
    purpose: claims.purpose ?? null,
    delegationChain: actingOf(claims).chain,
    authMethod: amr !== undefined && (TOKEN_AUTH_METHODS as readonly string[]).includes(amr) ? amr as AuthMethod : 'private_key_jwt',
    credentialKind: 'access_token',
    dpopBound: Boolean(claims.cnf?.jkt),
    issuedAt: new Date(claims.iat * 1000),
    sourceIp: null,
    via: 'direct',
    workloadId: null,
  };
}

/** Applies an Access Evaluations request's top-level defaults to one item (§7.1.1): the item's members win. */
export function withDefaults(item: Record<string, unknown>, defaults: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...item };
  for (const key of ['subject', 'action', 'resource', 'context'] as const) {
    if (out[key] === undefined && defaults[key] !== undefined) out[key] = defaults[key];
  }
  return out;
}

const REFUSAL_STATUS: Record<string, number> = {
  unknown_principal: 404, unknown_resource: 404, ambiguous_resource: 409, unknown_action: 400, invalid_request: 400, evaluation_failed: 500,
};

function reasonLine(r: DecisionReason): string {
  switch (r.kind) {
    case 'permit': return `permitted by ${r.policy} for ${r.principal}`;
    case 'forbid': return `forbidden by ${r.policy} for ${r.principal}`;
    case 'error': return `policy ${r.policy} failed for ${r.principal}: ${r.message}`;
    case 'no_permit': return `no policy permits ${r.principal}`;
    case 'refused': return `${r.code}: ${r.message}`;
  }
}

/** Refusals a caller without access to the catalogue must not see: they would tell what exists from what is denied. */
const CATALOGUE_REFUSALS = new Set<string>(['unknown_resource', 'ambiguous_resource']);

const USER_TEXT: Record<number, string> = { 400: 'Bad request.', 403: 'Access denied.', 404: 'Not found.', 409: 'Ambiguous request.', 500: 'Evaluation failed.' };

/**
 * The AuthZEN answer for a decision. `admin`: the caller may see policy names and reasons (operators, evaluators).
 * A refusal keys `reason_admin` / `reason_user` by its own status (404, 400, …), the same as `error.status`, never by
 * 403. A principal asking about itself (not admin) gets a refusal about the registry (unknown or ambiguous resource)
 * as a plain deny: no `error`, `reason_user` 403, so a nonexistent resource looks exactly like a denied one.
 */
export function answerOf(decision: Pick<Decision, 'decision' | 'reasons' | 'auditEventId'>, admin: boolean): DecisionOut {
  if (decision.decision === 'allow') return { decision: true };
  const denials = decision.reasons.filter((r) => r.kind !== 'permit');
  const context: Record<string, unknown> = {};
  if (decision.auditEventId) context.id = decision.auditEventId;
  const found = decision.reasons.find((r): r is Extract<DecisionReason, { kind: 'refused' }> => r.kind === 'refused');
  const refusal = found && (admin || !CATALOGUE_REFUSALS.has(found.code)) ? found : undefined;
  const status = refusal ? REFUSAL_STATUS[refusal.code] ?? 400 : 403;
  if (admin) context.reason_admin = { [status]: denials.map(reasonLine).join('; ') || 'denied' };
  context.reason_user = { [status]: USER_TEXT[status] ?? 'Access denied.' };
  if (refusal) context.error = { status, message: refusal.message };
  return { decision: false, context };
}

/** An item of a batch that could not be evaluated at all (incomplete after defaults, wrong types). */
export function invalidItem(message: string): DecisionOut {
  return { decision: false, context: { error: { status: 400, message } } };
}

/** JSON with object keys sorted: the same request always serialises the same (page tokens bind to it). */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}
