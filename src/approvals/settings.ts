import { z } from 'zod';
import { ASSET_ACTIONS } from '../authz/index.js';

// The approval rules as data: one JSON document (GET/PUT /v1/approval-settings), the built-in defaults until an
// admin stores one. What is here is *how many* approvals, *from whom* and *within how long*; what is not here —
// and so cannot be switched off — is separation of duties (sod.ts): the requester and everyone on the requester's
// chain never count, non-human principals never approve, one person counts once, approvals bind to the request's
// hash, and admins are approvers like anyone else. Validation (validateSettings) keeps the floors the issue sets:
// medium and high need at least one approver, critical two distinct people of whom one is from security.

export const RISK_TIERS = ['low', 'medium', 'high', 'critical'] as const;
export type Tier = (typeof RISK_TIERS)[number];
export const CLASSIFICATIONS = ['public', 'internal', 'confidential', 'restricted'] as const;

/**
 * Who may fill an approval slot: `anyone` (any person who may approve at all), `resource_owners` (each resource's
 * owning principal and the members of its owning team; for registrations, the subject's owning team), `security`
 * (members of the security team), or `team:<name>`.
 */
export const approverGroupSchema = z.union([z.enum(['anyone', 'resource_owners', 'security']), z.string().regex(/^team:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/)]);
export type ApproverGroup = z.infer<typeof approverGroupSchema>;

const seconds = z.number().int().min(60);

export const tierRuleSchema = z.strictObject({
  /** Approved at once when filed (only for low): the grant still obeys every policy and guardrail. */
  auto_approve: z.boolean(),
  /** One distinct person per slot, each from the slot's group. */
  slots: z.array(approverGroupSchema).max(5),
  /** The longest duration a request under this rule may ask for. */
  max_duration_seconds: seconds.max(90 * 86_400),
  /** A pending request expires after this long. */
  pending_seconds: seconds.max(90 * 86_400),
});
export type TierRule = z.infer<typeof tierRuleSchema>;

export const conflictSchema = z.strictObject({
  name: z.string().min(1).max(100),
  /** Who holds the conflicting role. */
  holders: approverGroupSchema,
  /** The duty they may not approve: requests that include one of these actions… */
  actions: z.array(z.enum(ASSET_ACTIONS)).min(1),
  /** …on resources of these kinds (all kinds when absent). */
  resource_kinds: z.array(z.string().min(1).max(64)).max(16).optional(),
});
export type ConflictPair = z.infer<typeof conflictSchema>;

export const approvalSettingsSchema = z.strictObject({
  security_team: z.string().min(1).max(63),
  break_glass_team: z.string().min(1).max(63),
  break_glass_max_seconds: seconds.max(86_400),
  /** A classification raises a resource's effective tier to at least this. */
  classification_floor: z.strictObject({ public: z.enum(RISK_TIERS), internal: z.enum(RISK_TIERS), confidential: z.enum(RISK_TIERS), restricted: z.enum(RISK_TIERS) }),
  rules: z.strictObject({ low: tierRuleSchema, medium: tierRuleSchema, high: tierRuleSchema, critical: tierRuleSchema }),
  /** Registration of high and critical principals (the subject's tier decides). */
  registration: z.strictObject({ high: tierRuleSchema, critical: tierRuleSchema }),
  conflicts: z.array(conflictSchema).max(50),
  reviews: z.strictObject({
    period_days: z.strictObject({ low: z.number().int().min(1).max(3650), medium: z.number().int().min(1).max(3650), high: z.number().int().min(1).max(3650), critical: z.number().int().min(1).max(3650) }),
    grace_days: z.number().int().min(0).max(365),
    /** Tiers whose principals are suspended when their review item is left undecided past the grace period. */
    suspend_unreviewed: z.array(z.enum(RISK_TIERS)),
  }),
});
export type ApprovalSettings = z.infer<typeof approvalSettingsSchema>;

const DAY = 86_400;

export const DEFAULT_APPROVAL_SETTINGS: ApprovalSettings = {
  security_team: 'security',
  break_glass_team: 'break-glass',
  break_glass_max_seconds: 3600,
  classification_floor: { public: 'low', internal: 'low', confidential: 'medium', restricted: 'high' },
  rules: {
    low: { auto_approve: true, slots: [], max_duration_seconds: 30 * DAY, pending_seconds: 1 * DAY },
    medium: { auto_approve: false, slots: ['anyone'], max_duration_seconds: 7 * DAY, pending_seconds: 7 * DAY },
    high: { auto_approve: false, slots: ['resource_owners'], max_duration_seconds: 1 * DAY, pending_seconds: 3 * DAY },
    critical: { auto_approve: false, slots: ['anyone', 'security'], max_duration_seconds: 8 * 3600, pending_seconds: 1 * DAY },
  },
  registration: {
    high: { auto_approve: false, slots: ['security'], max_duration_seconds: 1 * DAY, pending_seconds: 7 * DAY },
    critical: { auto_approve: false, slots: ['anyone', 'security'], max_duration_seconds: 1 * DAY, pending_seconds: 7 * DAY },
  },
  conflicts: [],
  reviews: { period_days: { low: 365, medium: 180, high: 90, critical: 30 }, grace_days: 14, suspend_unreviewed: ['high', 'critical'] },
};

const ORDER: Record<Tier, number> = { low: 0, medium: 1, high: 2, critical: 3 };

/** The floors no stored document may go below; null when the document keeps them, else what is wrong. */
export function settingsProblem(s: ApprovalSettings): string | null {
  const { rules } = s;
  for (const tier of ['medium', 'high', 'critical'] as const) {
    if (rules[tier].auto_approve) return `rules.${tier}: only low may auto-approve`;
    if (rules[tier].slots.length < 1) return `rules.${tier}: needs at least one approver`;
  }
  if (rules.low.auto_approve && rules.low.slots.length > 0) return 'rules.low: an auto-approving rule has no approver slots';
  if (!rules.low.auto_approve && rules.low.slots.length < 1) return 'rules.low: without auto_approve it needs at least one approver';
  for (const [where, rule] of [['rules.critical', rules.critical], ['registration.critical', s.registration.critical]] as const) {
    if (rule.slots.length < 2 || !rule.slots.includes('security')) return `${where}: needs two distinct approvers, one of them from security`;
  }
  for (const tier of ['high', 'critical'] as const) {
    if (s.registration[tier].auto_approve || s.registration[tier].slots.length < 1) return `registration.${tier}: needs at least one approver and no auto-approval`;
  }
  if (ORDER[s.classification_floor.confidential] < ORDER.medium) return 'classification_floor.confidential: at least medium';
  if (ORDER[s.classification_floor.restricted] < ORDER.high) return 'classification_floor.restricted: at least high';
  const everyone = s.conflicts.find((c) => c.holders === 'anyone');
  if (everyone) return `conflicts.${everyone.name}: a conflict held by 'anyone' would leave nobody to approve`;
  if (s.break_glass_team === s.security_team) return 'break_glass_team: must differ from security_team (break-glass is reviewed by security)';
  return null;
}

export function riskier(a: Tier, b: Tier): Tier {
  return ORDER[a] >= ORDER[b] ? a : b;
}

/** A resource's effective tier: its own risk tier raised to its classification's floor. */
export function effectiveTier(s: ApprovalSettings, resource: { riskTier: string; classification: string }): Tier {
  const own = (RISK_TIERS as readonly string[]).includes(resource.riskTier) ? resource.riskTier as Tier : 'critical';
  const floor = s.classification_floor[resource.classification as keyof ApprovalSettings['classification_floor']] ?? 'critical';
  return riskier(own, floor);
}
