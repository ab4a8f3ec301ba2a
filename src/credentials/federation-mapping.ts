// Does a workload's verified claims set match a trusted issuer's mapping? Pure, so every rule below has an
// exact test (federation-mapping.test.ts). The federation service calls it only after jose has verified the
// assertion's signature, issuer, audience and lifetime: this decides *which principal*, never *whether the
// token is genuine*.
//
// Rules:
// - A mapping is a set of conditions, one per claim name; a claim matches when its value is a string equal to
//   the condition's string, or to one of the condition's strings (a list). Comparison is exact: no wildcards,
//   no case folding, no prefix matching (`refs/heads/main` never matches `refs/heads/main-old`).
// - Every condition must hold (AND). A mapping with no condition matches nothing: a trusted issuer such as
//   GitHub's is shared by every repository on it, so a mapping must narrow who it lets in.
// - A claim name addresses a top-level claim, or, through dots, a nested one: `kubernetes.io.namespace` finds
//   {"kubernetes.io": {"namespace": "ci"}}. Because claim names may themselves contain dots, every way of
//   splitting the name is tried; the condition holds only when at least one path resolves and every path that
//   resolves gives an accepted string (a claims set that could be read two ways must agree with itself).
// - Only own properties are followed (never a prototype's), only through plain objects (never arrays), and
//   only string values can match: numbers, booleans, arrays, objects and null never do.
// - Resolving principals: every mapping that matches names its principal; none → no match, more than one
//   distinct principal → ambiguous (refused, never "the first one wins").

export type ClaimCondition = string | readonly string[];

export interface ClaimMapping {
  principalId: string;
  claims: Readonly<Record<string, ClaimCondition>>;
}

export type MappingResult =
  | { outcome: 'matched'; principalId: string; mappings: number }
  | { outcome: 'none' }
  | { outcome: 'ambiguous'; principalIds: string[] };

const MAX_DEPTH = 8;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Every value `name` can address in `claims` (top-level key, or a dotted path through nested objects). */
export function resolveClaim(claims: unknown, name: string, depth = 0): unknown[] {
  if (!isPlainObject(claims) || depth > MAX_DEPTH || name.length === 0) return [];
  const found: unknown[] = [];
  if (Object.hasOwn(claims, name)) found.push(claims[name]);
  for (let i = name.indexOf('.'); i > 0; i = name.indexOf('.', i + 1)) {
    const head = name.slice(0, i);
    if (Object.hasOwn(claims, head) && isPlainObject(claims[head])) found.push(...resolveClaim(claims[head], name.slice(i + 1), depth + 1));
  }
  return found;
}

/** Whether one condition holds over `claims`. */
export function conditionHolds(claims: unknown, name: string, condition: ClaimCondition): boolean {
  const accepted = typeof condition === 'string' ? [condition] : condition;
  if (accepted.length === 0) return false;
  const values = resolveClaim(claims, name);
  return values.length > 0 && values.every((v) => typeof v === 'string' && accepted.includes(v));
}

/** Whether every condition of `mapping` holds (and there is at least one). */
export function mappingMatches(claims: unknown, mapping: Pick<ClaimMapping, 'claims'>): boolean {
  const conditions = Object.entries(mapping.claims);
  return conditions.length > 0 && conditions.every(([name, condition]) => conditionHolds(claims, name, condition));
}

/** The one principal the claims map to, or why there is none. */
export function resolveMappings(claims: unknown, mappings: readonly ClaimMapping[]): MappingResult {
  const matched = mappings.filter((m) => mappingMatches(claims, m));
  const principals = [...new Set(matched.map((m) => m.principalId))];
  if (principals.length === 0) return { outcome: 'none' };
  if (principals.length > 1) return { outcome: 'ambiguous', principalIds: principals };
  return { outcome: 'matched', principalId: principals[0]!, mappings: matched.length };
}
