// The one object that says who is acting, passed to every service call instead of loose strings.
// It is shaped for every kind of caller, not only operators: a person with an operator token today, and
// (credentials, gateway) an agent with a delegated, DPoP-bound access token for one purpose tomorrow.
// Verifiers build it; services read it; nobody else constructs one except the helpers below.

export const OPERATOR_ROLES = ['admin', 'security', 'auditor', 'owner'] as const;
export type OperatorRole = (typeof OPERATOR_ROLES)[number];

/** How the caller proved who it is. */
export type AuthMethod =
  | 'operator_token'   // custos_op_… bearer token of the management plane
  | 'api_key'          // custos_ak_… (credentials module)
  | 'private_key_jwt'  // RFC 7523 client assertion
  | 'client_secret'
  | 'federated'        // workload OIDC / SPIFFE / a person through the organisation's IdP
  | 'system'           // the server itself: start-up, background jobs
  | 'cli_local';       // a host operator holding the master key, acting on the store directly

/** What the request carried. */
export type CredentialKind =
  | 'operator_token' | 'api_key' | 'access_token' | 'refresh_token'
  | 'client_key'      // a registered public key (private_key_jwt) at the token endpoint
  | 'client_secret'   // client_secret_basic / client_secret_post
  | 'federated_jwt';  // a workload's JWT from a trusted issuer (jwt-bearer grant)

export interface ActorPrincipal {
  id: string;
  name: string;
  /** One of identity's principal kinds (human, agent, service_account, …). */
  kind: string;
  status: string;
  /** The accountable owner (a principal), when the principal has one. */
  ownerId: string | null;
}

/** One hop of a delegation chain (RFC 8693 `act`): who acted for whom, outermost first. */
export interface DelegationLink {
  principalId: string;
  principalName: string | null;
}

export interface Provenance {
  sourceIp: string | null;
  requestId: string | null;
  traceId: string | null;
  userAgent: string | null;
  /** Whether the call reached us through the Custos gateway or directly. */
  via: 'direct' | 'gateway';
}

export interface Actor {
  /** The principal acting; null only for the system itself (startup, background jobs) and unauthenticated callers. */
  principal: ActorPrincipal | null;
  credential: { id: string; kind: CredentialKind; issuedAt?: string; expiresAt?: string } | null;
  authMethod: AuthMethod;
  /** The operator role the credential carries; null for callers outside the management plane. */
  role: OperatorRole | null;
  /** Teams the principal belongs to (ownership through a team). */
  teamIds: string[];
  /** Granted OAuth scopes; null when the credential is not scoped (operator tokens). */
  scope: string[] | null;
  /** The purpose bound to the credential at issuance; never taken from a request header. */
  purpose: string | null;
  /** The audiences (resources) the credential is valid for; null when not audience-restricted. */
  audience: string[] | null;
  /** Proof-of-possession binding (RFC 9449 `cnf.jkt`, or an mTLS certificate thumbprint). */
  binding: { method: 'dpop' | 'mtls'; thumbprint: string } | null;
  /** Outermost first: the principals on whose behalf this actor acts. Empty for direct calls. */
  delegationChain: DelegationLink[];
  provenance: Provenance;
  /** How the audit log names an actor that has no principal ('system:startup'); null otherwise. */
  label: string | null;
}

export const NO_PROVENANCE: Provenance = { sourceIp: null, requestId: null, traceId: null, userAgent: null, via: 'direct' };

/** Fields every actor starts from; verifiers fill in what their credential proves. */
function baseActor(authMethod: AuthMethod, provenance: Provenance): Actor {
  return {
    principal: null, credential: null, authMethod, role: null, teamIds: [], scope: null, purpose: null,
    audience: null, binding: null, delegationChain: [], provenance, label: null,
  };
}

/** An operator: a human principal holding an operator token with one role. */
export function operatorActor(input: {
  principal: ActorPrincipal; credentialId: string; role: OperatorRole; teamIds: string[]; provenance: Provenance;
}): Actor {
  return {
    ...baseActor('operator_token', input.provenance),
    principal: input.principal,
    credential: { id: input.credentialId, kind: 'operator_token' },
    role: input.role,
    teamIds: input.teamIds,
  };
}

/** A principal holding an access token or an API key (credentials module): scoped, purpose-bound, maybe delegated. */
export function credentialActor(input: {
  principal: ActorPrincipal;
  credential: NonNullable<Actor['credential']>;
  authMethod: AuthMethod;
  teamIds: string[];
  scope: string[];
  purpose: string | null;
  audience: string[];
  binding: Actor['binding'];
  delegationChain: DelegationLink[];
  provenance: Provenance;
  /** A signed-in person's operator role (their access token's `roles`); null for everyone else. */
  role?: OperatorRole | null;
}): Actor {
  return {
    ...baseActor(input.authMethod, input.provenance),
    role: input.role ?? null,
    principal: input.principal,
    credential: input.credential,
    teamIds: input.teamIds,
    scope: input.scope,
    purpose: input.purpose,
    audience: input.audience,
    binding: input.binding,
    delegationChain: input.delegationChain,
  };
}

/** A caller whose credential was not accepted: recorded in `auth.failed` events, never passed to a service. */
export function anonymousActor(authMethod: AuthMethod, provenance: Provenance, credential: Actor['credential'] = null): Actor {
  return { ...baseActor(authMethod, provenance), credential };
}

export function systemActor(reason: 'startup' | 'background' | 'cli_local' = 'background'): Actor {
  return {
    ...baseActor(reason === 'cli_local' ? 'cli_local' : 'system', NO_PROVENANCE),
    role: 'admin',
    label: `system:${reason}`,
  };
}

/** The display name the audit log records for an actor. */
export function actorName(actor: Actor): string | null {
  return actor.principal?.name ?? actor.label;
}
