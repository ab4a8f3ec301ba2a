// The posture rules a decision sees (pure): what a verified posture assertion's claims say, whether a device record
// counts for this principal now, and which evidence wins. Nothing here trusts anything unverified: the assertion's
// claims reach `postureFromClaims` only after assertion.ts verified its signature, issuer and freshness.
//
// Rules:
// - Claims: `posture` is "compliant" | "noncompliant" | "unknown", or the boolean `compliant` (true → compliant,
//   false → noncompliant). Both given and disagreeing, neither given, or any other value → unknown.
// - A record counts only when it was looked up by the device id the request presented, belongs to the acting
//   principal, and `valid_until` is after now; a record past valid_until is stale → unknown. Its posture is what the
//   reporter said (compliant | noncompliant | unknown).
// - Precedence: a verified assertion first (whatever posture it states), then a record, else unknown with source
//   "none". An assertion that failed verification is ignored (not counted against the record): its failure only
//   appears in `detail`. Nothing ever yields `compliant` without a verified, fresh statement saying so.

export type Posture = 'compliant' | 'noncompliant' | 'unknown';
export const POSTURES = ['compliant', 'noncompliant', 'unknown'] as const;

export interface DevicePosture {
  posture: Posture;
  /** The device, "" when none is known. */
  id: string;
  source: 'assertion' | 'record' | 'none';
  /** Why the posture is what it is (for explanations); never a secret or a token. */
  detail?: string;
}

export const NO_POSTURE: DevicePosture = { posture: 'unknown', id: '', source: 'none' };

/** The posture a verified assertion's claims state. */
export function postureFromClaims(claims: Record<string, unknown>): Posture {
  const stated = claims.posture;
  const flag = claims.compliant;
  const fromPosture = stated === undefined ? undefined : (POSTURES as readonly unknown[]).includes(stated) ? stated as Posture : 'unknown';
  const fromFlag = flag === undefined ? undefined : flag === true ? 'compliant' : flag === false ? 'noncompliant' : 'unknown';
  if (fromPosture === undefined && fromFlag === undefined) return 'unknown';
  if (fromPosture !== undefined && fromFlag !== undefined && fromPosture !== fromFlag) return 'unknown';
  return (fromPosture ?? fromFlag)!;
}

export interface RecordFacts {
  deviceId: string;
  principalId: string | null;
  posture: Posture;
  validUntil: string;
}

/** What a device record says for `principalId` at `now`. */
export function postureFromRecord(record: RecordFacts | undefined, deviceId: string, principalId: string, now: Date): DevicePosture {
  if (!record) return { ...NO_POSTURE, detail: `no record of device '${deviceId}'` };
  if (record.principalId !== principalId) return { ...NO_POSTURE, detail: `device '${deviceId}' is not recorded for this principal` };
  if (Date.parse(record.validUntil) <= now.getTime()) return { ...NO_POSTURE, detail: `the record of device '${deviceId}' expired at ${record.validUntil}` };
  return { posture: record.posture, id: record.deviceId, source: 'record' };
}

export type AssertionOutcome =
  | { ok: true; posture: Posture; deviceId: string; issuer: string }
  | { ok: false; why: string };

/** A verified assertion first, then a record, else unknown. */
export function choosePosture(assertion: AssertionOutcome | undefined, record: DevicePosture | undefined): DevicePosture {
  if (assertion?.ok) return { posture: assertion.posture, id: assertion.deviceId, source: 'assertion', detail: `asserted by posture issuer '${assertion.issuer}'` };
  const notes = [assertion && !assertion.ok ? `assertion ignored: ${assertion.why}` : undefined, record?.detail].filter(Boolean);
  if (record && record.source === 'record') return { ...record, ...(notes.length ? { detail: notes.join('; ') } : {}) };
  return { ...NO_POSTURE, ...(notes.length ? { detail: notes.join('; ') } : {}) };
}
