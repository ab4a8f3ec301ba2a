import { PRINCIPAL_KINDS, type PrincipalKind } from './taxonomy.js';

// A principal's `may_delegate_to`: who may act for it through token exchange (RFC 8693; the delegator's
// registration allows the actor). Entries are principals (ids when stored; ids or names in requests) and
// `kind:<kind>` entries that admit every principal of that kind. Pure functions.
//
// Rules:
//   - A `kind:` entry names one of the principal kinds; names are DNS labels and never contain a colon, so
//     `kind:` cannot be mistaken for a principal's name.
//   - The stored list keeps the order given, without repeats.

export const KIND_PREFIX = 'kind:';
export const MAX_DELEGATES = 100;

export function isKindEntry(entry: string): boolean {
  return entry.startsWith(KIND_PREFIX);
}

/** The kind a `kind:` entry names, or undefined when it names none. */
export function kindOfEntry(entry: string): PrincipalKind | undefined {
  const kind = entry.slice(KIND_PREFIX.length);
  return isKindEntry(entry) && (PRINCIPAL_KINDS as readonly string[]).includes(kind) ? (kind as PrincipalKind) : undefined;
}

/** The principal ids among stored entries (the `kind:` entries left out). */
export function delegateIds(entries: readonly string[]): string[] {
  return entries.filter((e) => !isKindEntry(e));
}

/** Whether `actor` (id and kind) is admitted by the stored entries of a delegator. */
export function admitsDelegate(entries: readonly string[], actor: { id: string; kind: string }): boolean {
  return entries.includes(actor.id) || entries.includes(`${KIND_PREFIX}${actor.kind}`);
}

/** Stored entries shown to people: ids replaced by names (an id with no known name stays an id). */
export function delegateLabels(entries: readonly string[], names: ReadonlyMap<string, string>): string[] {
  return entries.map((e) => (isKindEntry(e) ? e : names.get(e) ?? e));
}

export function withoutRepeats(entries: readonly string[]): string[] {
  return [...new Set(entries)];
}
