// Remediation priority of a leaked secret: severity × exposure × liveness. Pure and deterministic, so
// the same finding always sorts the same way and the rule can be explained to the person paged.

export const FINDING_STATUSES = ['open', 'revoked', 'rotated', 'accepted', 'false_positive'] as const;
export type FindingStatus = (typeof FINDING_STATUSES)[number];
export type Liveness = 'live' | 'unknown' | 'revoked' | 'expired';

const SEVERITY = { low: 1, medium: 2, high: 3, critical: 4 } as const;

export interface Exposure {
  /** Found in a repository others can read. */
  publicRepo?: boolean;
  /** Found in an image that was pushed to a registry. */
  pushedImage?: boolean;
}

export function exposureFactor(e: Exposure): number {
  return e.publicRepo ? 3 : e.pushedImage ? 2 : 1;
}

export function livenessFactor(l: Liveness): number {
  return l === 'live' ? 3 : l === 'unknown' ? 2 : 1;
}

export function priorityScore(severity: keyof typeof SEVERITY, exposure: Exposure, liveness: Liveness): number {
  return SEVERITY[severity] * exposureFactor(exposure) * livenessFactor(liveness);
}

/** P1 (act now) … P4 (backlog). */
export function priorityLabel(score: number): 'P1' | 'P2' | 'P3' | 'P4' {
  return score >= 24 ? 'P1' : score >= 12 ? 'P2' : score >= 6 ? 'P3' : 'P4';
}

/** Which status changes an operator may make; revoked is set by revocation, not by hand. */
const MANUAL: Record<FindingStatus, readonly FindingStatus[]> = {
  open: ['rotated', 'accepted', 'false_positive'],
  revoked: ['rotated'],
  rotated: ['open'],
  accepted: ['open'],
  false_positive: ['open'],
};

export function allowedStatusChanges(from: FindingStatus): readonly FindingStatus[] {
  return MANUAL[from];
}
