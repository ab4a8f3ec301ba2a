import { createHash } from 'node:crypto';

// What an approver approves, as one SHA-256: the request's kind, revision, subject, resources, actions, purpose,
// duration, justification and ticket, in a canonical JSON form (sorted lists, fixed member order). Approvals store the hash
// they were given for; editing any of these fields changes it, so approvals given for the earlier text stop
// counting, and an approver who read an older version is refused (409 request_changed) instead of approving text
// they never saw.

export interface HashedRequest {
  kind: string;
  /** The revision: editing a request back to earlier text still gives a new hash, so old approvals never revive. */
  revision: number;
  subjectId: string;
  resourceIds: readonly string[];
  actions: readonly string[];
  purpose: string | null;
  durationSeconds: number;
  justification: string;
  ticket: string | null;
}

export function requestHash(r: HashedRequest): string {
  const canonical = JSON.stringify([
    'custos-access-request-v1', r.kind, r.revision, r.subjectId, [...r.resourceIds].sort(), [...r.actions].sort(), r.purpose, r.durationSeconds, r.justification, r.ticket,
  ]);
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}
