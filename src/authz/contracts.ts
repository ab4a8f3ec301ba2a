// The types the parts of the authorization module meet on: the decision point (pdp.ts), the entity snapshot
// (snapshot.ts), the policy set (policy-set.ts), and the parts that feed or ask it (policies/, grants/, devices/,
// authzen/). Other modules see only what index.ts re-exports.
import type { Actor, AuthMethod } from '../platform/actor.js';
import type { Trx, WriteBatch } from '../platform/store/db.js';

/** The AI-asset actions (what agents and people do to models, datasets, tools, …). */
export const ASSET_ACTIONS = ['invoke', 'read', 'write', 'train', 'fine_tune', 'deploy', 'promote', 'delegate', 'call_tool', 'export'] as const;
/** The management actions of the Custos API itself (resource `Custos::Api::"custos"`). */
export const MANAGEMENT_ACTIONS = ['approve', 'policy.write', 'credential.create', 'grant.write', 'principal.write', 'resource.write', 'audit.read'] as const;
export const ACTIONS = [...ASSET_ACTIONS, ...MANAGEMENT_ACTIONS] as const;
export type AssetAction = (typeof ASSET_ACTIONS)[number];
export type ActionName = (typeof ACTIONS)[number];

/** Cedar namespace of every Custos entity type and action. */
export const NS = 'Custos';

/** A Cedar entity UID. */
export interface EntityUid { type: string; id: string }

/** What a decision is about: a registry resource, an application's object (AuthZEN), or the Custos API. */
export type ResourceTarget =
  | { kind: 'registry'; ref: string; resourceKind?: string } // id or name; resourceKind narrows a name lookup
  | { kind: 'app'; type: string; id: string }
  | { kind: 'api' };

/**
 * Facts about the request the enforcement point knows from a verified credential and the connection. The PDP
 * turns them into the Cedar context (context.ts) and adds what it looks up itself (zone, posture, time, risk).
 */
export interface RequestFacts {
  /** Purpose bound to the credential at issuance (never from a header); null when none. */
  purpose: string | null;
  /** Principal ids of the act chain, outermost first (RFC 8693), without the acting principal itself. */
  delegationChain: string[];
  authMethod: AuthMethod | 'none';
  credentialKind: 'access_token' | 'api_key' | 'operator_token' | 'none';
  dpopBound: boolean;
  /** When the credential was issued (token age); null when unknown. */
  issuedAt: Date | null;
  sourceIp: string | null;
  via: 'direct' | 'gateway';
  /** SPIFFE ID or federated subject the credential was minted from, when a workload proved itself. */
  workloadId: string | null;
  /** A signed posture assertion (JWT) presented with the request, or a device id to look up. */
  device?: { assertion?: string; deviceId?: string };
  /** 0..100 raised by other modules (monitoring); 0 when unknown. */
  risk?: number;
}

export const NO_FACTS: RequestFacts = {
  purpose: null, delegationChain: [], authMethod: 'none', credentialKind: 'none', dpopBound: false, issuedAt: null,
  sourceIp: null, via: 'direct', workloadId: null,
};

/** What an AuthZEN caller asserted: seen by policies as `principal.asserted`, `resource.asserted`, `context.request`. */
export interface Asserted {
  subject?: Record<string, unknown>;
  resource?: Record<string, unknown>;
  context?: Record<string, unknown>;
}

export interface DecisionRequest {
  /** The acting principal: registry id or name. */
  principal: string;
  action: string;
  resource: ResourceTarget;
  facts: RequestFacts;
  asserted?: Asserted;
  /**
   * How the decision event keeps `asserted`: whole (the default: impact replays re-evaluate it), or only its SHA-256
   * when it carries what the log must not hold in clear (an MCP tool call's arguments).
   */
  assertedInAudit?: 'whole' | 'digest';
  /** Echoed into the audit event (X-Request-ID, the gateway's request id). */
  requestId: string | null;
  /**
   * Facts stated by an operator (an explanation, `custos authz check`), not observed on a real request: the decision
   * event says so, and policy impact replays skip it.
   */
  simulated?: { statedBy: string | null; facts: Record<string, unknown> };
}

/** Why a decision came out as it did: one entry per reason, in a stable shape for audit events and AuthZEN. */
export type DecisionReason =
  | { kind: 'permit'; policy: string; principal: string }
  | { kind: 'forbid'; policy: string; principal: string }
  | { kind: 'error'; policy: string; principal: string; message: string }
  | { kind: 'no_permit'; principal: string }
  | { kind: 'refused'; code: RefusalCode; message: string };

/** Why a request could not be evaluated at all (it is denied). */
export type RefusalCode =
  | 'unknown_principal' | 'unknown_resource' | 'unknown_action' | 'ambiguous_resource' | 'invalid_request'
  | 'evaluation_failed';

export interface PrincipalVerdict {
  principal: string;
  decision: 'allow' | 'deny';
  permits: string[];
  forbids: string[];
  errors: Array<{ policy: string; message: string }>;
}

export interface Decision {
  decision: 'allow' | 'deny';
  reasons: DecisionReason[];
  /** `<active policy version>.<policy counter>`: names the user policy version and the grants it saw. */
  policyVersion: string;
  entityVersion: number;
  /** One verdict per principal evaluated: the actor, then each principal of the delegation chain. */
  verdicts: PrincipalVerdict[];
  /** The Cedar context the decision used (for explanations). */
  context: Record<string, unknown>;
  /** The audit event recording it (decide only). */
  auditEventId: string | null;
}

/** A policy set to evaluate instead of the active one (tests of a candidate, impact replays). */
export interface CandidatePolicies {
  /** Cedar text of the user policies (guardrails and grants are always added). */
  text: string;
  /** A stable label for the decision's policyVersion (e.g. `candidate:7`). */
  label: string;
  /** The candidate's application schema (its own application actions), if it has one. */
  appSchema?: string | null;
}

export interface EvaluateOptions {
  candidate?: CandidatePolicies;
  /** Evaluate with this Cedar context instead of building one (impact replays use the recorded context). */
  context?: Record<string, unknown>;
}

export interface PreparedDecision {
  decision: Decision;
  record(trx: Trx, batch: WriteBatch): Promise<{ id: string }>;
}

export interface Pdp {
  /** Decides and records `authz.decision` (and `authz.policy_error` when a policy errored) before returning. */
  decide(request: DecisionRequest, askedBy: Actor): Promise<Decision>;
  /**
   * Decides without committing: `record` writes the same events inside the caller's transaction, so an enforcement
   * point (the gateway) commits the decision and its own record of the call together, once, before it answers.
   */
  prepareDecision(request: DecisionRequest, askedBy: Actor): Promise<PreparedDecision>;
  /** Evaluates without recording: policy tests, impact replays, searches whose answers are recorded as one event. */
  evaluate(request: DecisionRequest, options?: EvaluateOptions): Promise<Decision>;
  /** Brings the snapshot up to date and returns its versions (health, explain). */
  versions(): Promise<{ entities: number; policies: number; activePolicyVersion: number | null; appActions: string[] }>;
}

/** A principal as the snapshot holds it (names resolved). */
export interface SnapshotPrincipal {
  id: string;
  name: string;
  kind: string;
  status: string;
  uid: EntityUid;
}

/** A resource as the snapshot holds it. */
export interface SnapshotResource {
  id: string;
  name: string;
  kind: string;
  uid: EntityUid;
  classification: string;
  riskTier: string;
  parentId: string | null;
}
