// Checking a policy text before it is stored, activated, tested or diffed (pure, on top of cedar.ts): parse, reserved
// and repeated ids, and validation against the shipped schema in strict mode. What it adds to cedar.ts:
// - problems name the policy by its `@id` (Cedar's validator only knows positions: policy0, policy1, …);
// - Cedar reports a type error once per entity type the policy could apply to (seven times for `resource.x` on a
//   policy about every resource kind): problems at the same place in the same policy are reported once, saying
//   how many more there were;
// - an empty text is a problem (a version with no policy would deny everything but grants: say so explicitly with
//   a `forbid` if that is what is meant).
import { ACTIONS } from '../contracts.js';
import { appActionsOf, CedarTextError, splitPolicies, validatePolicyText, type PolicyProblem } from '../cedar.js';

export type { PolicyProblem };

/** The longest policy text a version (or an impact replay) takes, in characters: a policy set is read by people; 64 Ki
 * characters is several hundred policies. */
export const MAX_POLICY_TEXT = 65_536;

export const MAX_APP_SCHEMA_TEXT = 64 * 1024;

/**
 * Every problem of a user policy text (validated against the shipped schema, extended by the version's application
 * schema when it has one); an empty list means it can be stored and activated.
 */
export function policyProblems(text: string, appSchema?: string | null): PolicyProblem[] {
  if (text.trim() === '') return [{ message: 'no policies: the text is empty', line: 1, column: 1, policy: null }];
  let ids: string[];
  try {
    ids = Object.keys(splitPolicies(text));
  } catch (error) {
    if (error instanceof CedarTextError) return error.problems;
    throw error;
  }
  if (ids.length === 0) return [{ message: 'no policies: the text holds only comments', line: 1, column: 1, policy: null }];
  // Cedar's messages name the positional id ("for policy `policy0`, …"): the problem names the policy itself.
  const named = validatePolicyText(text, appSchema).map((p) => ({ ...p, message: p.message.replace(/^for policy `[^`]*`, /, ''), policy: p.policy ? idOf(p.policy, ids) : null }));
  return dedupe(named);
}

/** The actions a test case may name: Custos's, and those the application schema declares (on application objects). */
export function knownActions(appSchema?: string | null): { custos: ReadonlySet<string>; app: ReadonlySet<string> } {
  let app: string[] = [];
  try {
    app = appSchema ? appActionsOf(appSchema) : [];
  } catch (error) {
    if (!(error instanceof CedarTextError)) throw error;
  }
  return { custos: new Set<string>(ACTIONS), app: new Set(app) };
}

/** The ids of a valid policy text, in order. */
export function policyIds(text: string): string[] {
  return Object.keys(splitPolicies(text));
}

function idOf(positional: string, ids: string[]): string {
  const m = /^policy(\d+)$/.exec(positional);
  return m ? ids[Number(m[1])] ?? positional : positional;
}

function dedupe(problems: PolicyProblem[]): PolicyProblem[] {
  const groups = new Map<string, { first: PolicyProblem; more: number }>();
  for (const p of problems) {
    const key = `${p.policy ?? ''}\u0000${p.line ?? ''}\u0000${p.column ?? ''}`;
    const g = groups.get(key);
    if (g) g.more += 1;
    else groups.set(key, { first: p, more: 0 });
  }
  return [...groups.values()].map(({ first, more }) => (more === 0 ? first : { ...first, message: `${first.message} (and ${more} more like it for other entity types)` }));
}

/** One line per problem, `line:column: [policy] message`, for details and the CLI. */
export function problemLine(p: { message: string; line: number | null; column: number | null; policy?: string | null; case?: string }): string {
  const where = p.line ? `${p.line}:${p.column}: ` : '';
  const what = p.policy ? `policy '${p.policy}': ` : p.case ? `case '${p.case}': ` : '';
  return `${where}${what}${p.message}`;
}
