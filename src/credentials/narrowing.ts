import type { RiskTier } from '../identity/index.js';
import { OAuthError } from './oauth-errors.js';

// What a token may carry: pure rules with exact tests (narrowing.test.ts, including property tests over
// chains of exchanges). Issuance picks scope, purpose and lifetime from what the principal's registration
// approves; a token exchange (RFC 8693) only ever narrows what the subject token carries:
// - scope ⊆ subject's scope ∩ actor's approved scopes ∩ requested (requested defaults to the intersection);
// - audience ⊆ subject's (requested defaults to the subject's);
// - purpose unchanged (a different one requested is invalid_request);
// - exp ≤ subject's exp (and the actor's own cap);
// - depth ≤ the limit (default 3), no principal twice in the chain (a cycle), the `act` chain carried whole.

/** Every access token lives at least this long when asked for (the `expires_in` parameter's floor). */
export const MIN_TOKEN_SECONDS = 60;
export const DEFAULT_TOKEN_SECONDS = 15 * 60;
/** Longest access token by risk tier. Never above one hour: a token that needs to live longer is a key. */
export const MAX_TOKEN_SECONDS: Record<RiskTier, number> = { low: 3600, medium: 3600, high: 1800, critical: 900 };
export const LONGEST_TOKEN_SECONDS = Math.max(...Object.values(MAX_TOKEN_SECONDS));
export const DEFAULT_MAX_DELEGATION_DEPTH = 3;

/** The lifetime granted: the request (default 15 min) capped by the tier; below the floor is an error. */
export function grantedLifetime(requested: number | undefined, tier: RiskTier): number {
  if (requested !== undefined && (!Number.isInteger(requested) || requested < MIN_TOKEN_SECONDS)) {
    throw new OAuthError('invalid_request', `expires_in must be a whole number of seconds, ${MIN_TOKEN_SECONDS} at least`);
  }
  return Math.min(requested ?? DEFAULT_TOKEN_SECONDS, MAX_TOKEN_SECONDS[tier]);
}

/** Space-separated scope parameter → distinct scope tokens (RFC 6749 §3.3), order kept. */
export function parseScope(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const items = value.split(' ').filter(Boolean);
  for (const item of items) {
    if (!/^[\x21\x23-\x5b\x5d-\x7e]+$/.test(item)) throw new OAuthError('invalid_scope', 'scope tokens are printable ASCII without quotes or backslashes');
  }
  return [...new Set(items)];
}

/** Requested scopes must all be approved; none requested means every approved one. */
export function chooseScope(requested: string[] | undefined, approved: readonly string[]): string[] {
  if (requested === undefined) return [...approved];
  const outside = requested.filter((s) => !approved.includes(s));
  if (outside.length) throw new OAuthError('invalid_scope', `scope not approved for this client: ${outside.join(' ')}`);
  return requested;
}

/** The purpose must be one of the allowed ones; it may be omitted only when exactly one is allowed. */
export function choosePurpose(requested: string | undefined, allowed: readonly string[]): string | null {
  if (requested === undefined) {
    if (allowed.length === 1) return allowed[0]!;
    if (allowed.length === 0) return null;
    throw new OAuthError('invalid_request', `purpose is required: this client has several allowed purposes (${allowed.join(', ')})`);
  }
  if (!allowed.includes(requested)) {
    throw new OAuthError('invalid_request', allowed.length ? `purpose '${requested}' is not one of this client's allowed purposes (${allowed.join(', ')})` : `this client has no allowed purposes; purpose '${requested}' cannot be granted`);
  }
  return requested;
}

/** What a subject token carries into an exchange. */
export interface SubjectGrant {
  sub: string;
  scope: string[];
  audience: string[];
  purpose: string | null;
  /** Seconds since the epoch. */
  exp: number;
  /** Current actor first, then prior actors: [] when the subject token is not itself delegated. */
  actors: string[];
}

export interface ExchangeRequest {
  /** The principal that will act (the authenticated client, proven by the actor token). */
  actorId: string;
  actorApprovedScopes: readonly string[];
  actorTier: RiskTier;
  requestedScope: string[] | undefined;
  requestedAudience: string[] | undefined;
  requestedPurpose: string | undefined;
  requestedLifetime: number | undefined;
  /** Seconds since the epoch. */
  now: number;
  maxDepth: number;
}

export interface ExchangeGrant {
  sub: string;
  scope: string[];
  audience: string[];
  purpose: string | null;
  exp: number;
  /** The new current actor first, then the subject's actors. */
  actors: string[];
}

/** The grant of a token exchange: never more than the subject carries, for the actor's own approved scopes. */
export function narrowExchange(subject: SubjectGrant, req: ExchangeRequest): ExchangeGrant {
  if (req.actorId === subject.sub || subject.actors.includes(req.actorId)) {
    throw new OAuthError('invalid_request', 'delegation cycle: the actor is already in the subject token\'s chain');
  }
  const actors = [req.actorId, ...subject.actors];
  if (actors.length > req.maxDepth) {
    throw new OAuthError('invalid_request', `delegation depth ${actors.length} exceeds the limit of ${req.maxDepth}`);
  }
  if (req.requestedPurpose !== undefined && req.requestedPurpose !== subject.purpose) {
    throw new OAuthError('invalid_request', 'a token exchange keeps the subject token\'s purpose; a different purpose cannot be requested');
  }
  const ceiling = subject.scope.filter((s) => req.actorApprovedScopes.includes(s));
  const scope = req.requestedScope === undefined ? ceiling : req.requestedScope;
  const wider = scope.filter((s) => !ceiling.includes(s));
  if (wider.length) throw new OAuthError('invalid_scope', `scope wider than the subject token's scope and the actor's approved scopes: ${wider.join(' ')}`);
  const audience = req.requestedAudience === undefined ? subject.audience : req.requestedAudience;
  const outside = audience.filter((a) => !subject.audience.includes(a));
  if (outside.length) throw new OAuthError('invalid_target', `audience outside the subject token's: ${outside.join(' ')}`);
  if (audience.length === 0) throw new OAuthError('invalid_target', 'the exchanged token would have no audience');
  const lifetime = grantedLifetime(req.requestedLifetime, req.actorTier);
  const exp = Math.min(subject.exp, req.now + lifetime);
  if (exp <= req.now) throw new OAuthError('invalid_grant', 'the subject token has expired');
  return { sub: subject.sub, scope, audience, purpose: subject.purpose, exp, actors };
}

/** RFC 8693 §4.1 `act`: the current actor outermost, prior actors nested inside. */
export function actClaim(actors: readonly string[]): { sub: string; act?: ReturnType<typeof actClaim> } | undefined {
  if (actors.length === 0) return undefined;
  const [current, ...prior] = actors;
  const inner = actClaim(prior);
  return inner ? { sub: current!, act: inner } : { sub: current! };
}

/** The actors of an `act` claim, current first; a malformed claim is refused (the chain is never dropped). */
export function actorsOf(act: unknown): string[] {
  const out: string[] = [];
  let node = act;
  while (node !== undefined) {
    if (typeof node !== 'object' || node === null || typeof (node as { sub?: unknown }).sub !== 'string') {
      throw new OAuthError('invalid_grant', 'the subject token\'s act claim is malformed');
    }
    out.push((node as { sub: string }).sub);
    node = (node as { act?: unknown }).act;
    if (out.length > 16) throw new OAuthError('invalid_grant', 'the subject token\'s act chain is too deep');
  }
  return out;
}

/** Whether `delegator` allows `actor` to act for it: its `may_delegate_to` names the actor or its kind. */
export function mayDelegate(mayDelegateTo: readonly string[], actor: { id: string; kind: string }): boolean {
  return mayDelegateTo.includes(actor.id) || mayDelegateTo.includes(`kind:${actor.kind}`);
}
