// The vocabulary of the registry: kinds, lifecycle and the AI-principal taxonomy. Pure data and functions.
import { AppError } from '../platform/http/errors.js';

export const PRINCIPAL_KINDS = ['human', 'agent', 'service_account', 'workload', 'training_job', 'pipeline'] as const;
export type PrincipalKind = (typeof PRINCIPAL_KINDS)[number];

export const PRINCIPAL_STATUSES = ['proposed', 'active', 'suspended', 'decommissioned'] as const;
export type PrincipalStatus = (typeof PRINCIPAL_STATUSES)[number];

export const AUTONOMY_LEVELS = ['assistive', 'supervised', 'autonomous'] as const;
export const ENVIRONMENTS = ['dev', 'staging', 'prod'] as const;
export const CLASSIFICATIONS = ['public', 'internal', 'confidential', 'restricted'] as const;
export const RISK_TIERS = ['low', 'medium', 'high', 'critical'] as const;
export type RiskTier = (typeof RISK_TIERS)[number];

export const RESOURCE_KINDS = ['model', 'dataset', 'training_pipeline', 'endpoint', 'tool', 'vector_index'] as const;

export const LIFECYCLE_ACTIONS = {
  activate: 'active',
  suspend: 'suspended',
  decommission: 'decommissioned',
} as const satisfies Record<string, PrincipalStatus>;
export type LifecycleAction = keyof typeof LIFECYCLE_ACTIONS;

/** proposed → active → suspended ⇄ active → decommissioned (terminal); a proposal may also be rejected. */
const TRANSITIONS: Record<PrincipalStatus, readonly PrincipalStatus[]> = {
  proposed: ['active', 'decommissioned'],
  active: ['suspended', 'decommissioned'],
  suspended: ['active', 'decommissioned'],
  decommissioned: [],
};

export function allowedTransitions(from: PrincipalStatus): readonly PrincipalStatus[] {
  return TRANSITIONS[from];
}

export function assertTransition(from: PrincipalStatus, to: PrincipalStatus): void {
  const allowed = TRANSITIONS[from];
  if (!allowed.includes(to)) {
    throw new AppError('invalid_transition', `cannot move a principal from '${from}' to '${to}'; allowed from '${from}': ${allowed.length ? allowed.join(', ') : 'none (terminal)'}`,
      { from, to, allowed },
    );
  }
}

/** Default access-review period by risk tier: riskier principals are reviewed more often. */
export const REVIEW_PERIOD_DAYS: Record<RiskTier, number> = { low: 365, medium: 180, high: 90, critical: 30 };

export function reviewDueAt(from: Date, tier: RiskTier): string {
  return new Date(from.getTime() + REVIEW_PERIOD_DAYS[tier] * 86_400_000).toISOString();
}

/**
 * The review date after a risk-tier change: a riskier tier pulls the date in to the new period,
 * a calmer tier never pushes an already scheduled review out (only a review does that).
 */
export function reviewDueAfterTierChange(current: string | null, now: Date, tier: RiskTier): string {
  const byTier = reviewDueAt(now, tier);
  return current !== null && current < byTier ? current : byTier;
}

/** DNS-label names: lowercase letters, digits and hyphens, 1-63 characters, no leading or trailing hyphen. */
export const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Whether a principal needs an approved registration request to become active: non-human principals of high or
 * critical risk (humans come from the organisation's directory and are accountable for themselves).
 */
export function needsRegistration(p: { kind: string; risk_tier: string }): boolean {
  return p.kind !== 'human' && (p.risk_tier === 'high' || p.risk_tier === 'critical');
}
