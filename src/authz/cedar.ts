// The one file that talks to Cedar (@cedar-policy/cedar-wasm, its Node entry). Everything else in authz/ works
// with the plain shapes below, so the engine's API (and its quirks) stay in one place:
// - policies are parsed once per policy-set version (`preparsePolicySet`) and evaluated with the stateful API;
// - Cedar *skips* a policy whose evaluation errors (a forbid included) and may still answer allow: callers get the
//   errors back and must deny (pdp.ts does);
// - validation offsets are byte offsets in the text given; they are turned into 1-based line and column here.
import fs from 'node:fs';
import './v8-flags.js';
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { Context as CedarContext, PolicyJson, PolicySet, StatefulAuthorizationCall, EntityJson } from '@cedar-policy/cedar-wasm/nodejs';

export type { CedarContext, EntityJson, PolicyJson, PolicySet };

// src/ and dist/ are siblings at the package root, so this resolves from both (the .cedar files are not compiled).
const CEDAR_DIR = new URL('../../src/authz/cedar/', import.meta.url);

/** The shipped Cedar schema (src/authz/cedar/custos.cedarschema). */
export const CUSTOS_SCHEMA = fs.readFileSync(new URL('custos.cedarschema', CEDAR_DIR), 'utf8');
/** The built-in guardrail policies (src/authz/cedar/guardrails.cedar): always part of the active set. */
export const GUARDRAILS = fs.readFileSync(new URL('guardrails.cedar', CEDAR_DIR), 'utf8');

export const CEDAR_VERSION = cedar.getCedarVersion();

// A WebAssembly trap (a stack overflow, "memory access out of bounds") can leave the engine instance unusable for
// every later call in the process. The first one is remembered: decisions then fail closed and /readyz is red until
// a restart (untrusted text is screened before it gets here: cedar-screen.ts).
let failure: string | undefined;

/** Why the engine is unusable, or undefined while it is healthy. */
export function engineFailure(): string | undefined {
  return failure;
}

function engine<T>(call: () => T): T {
  try {
    return call();
  } catch (error) {
    // WebAssembly.RuntimeError: a trap inside the engine (its type is not in this project's lib).
    if (error instanceof Error && error.name === 'RuntimeError') failure ??= error.message;
    throw error;
  }
}

/** Ids reserved for policies Custos itself adds: a user policy may not take them. */
export const RESERVED_ID_PREFIXES = ['guardrail:', 'grant:'] as const;

export interface PolicyProblem {
  message: string;
  /** 1-based; null when Cedar gave no location. */
  line: number | null;
  column: number | null;
  /** The policy's id (`@id` annotation, else Cedar's positional `policyN`). */
  policy: string | null;
}

/** 1-based line and column of a UTF-8 byte offset in `text`. */
export function lineAndColumn(text: string, byteOffset: number): { line: number; column: number } {
  const before = Buffer.from(text, 'utf8').subarray(0, byteOffset).toString('utf8');
  const lines = before.split('\n');
  return { line: lines.length, column: (lines.at(-1)?.length ?? 0) + 1 };
}

function problem(text: string, message: string, start: number | undefined, policy: string | null): PolicyProblem {
  if (start === undefined) return { message, line: null, column: null, policy };
  return { message, ...lineAndColumn(text, start), policy };
}

/**
 * Splits Cedar text into its policies keyed by id: the `@id("…")` annotation when present, else `policyN` by
 * position. Throws CedarTextError when the text does not parse, ids repeat, or an id is reserved (except for the
 * built-in guardrails, whose ids are the reserved ones).
 */
export function splitPolicies(text: string, options: { builtIn?: boolean } = {}): Record<string, string> {
  const parts = engine(() => cedar.policySetTextToParts(text));
  if (parts.type === 'failure') {
    throw new CedarTextError(parts.errors.map((e) => problem(text, e.message, e.sourceLocations?.[0]?.start, null)));
  }
  if (parts.policy_templates.length > 0) {
    throw new CedarTextError([{ message: 'templates (policies with ?principal or ?resource slots) are not accepted here: grants are made through /v1/grants', line: null, column: null, policy: null }]);
  }
  const out: Record<string, string> = {};
  const problems: PolicyProblem[] = [];
  parts.policies.forEach((policy, index) => {
    const json = engine(() => cedar.policyToJson(policy));
    const id = json.type === 'success' ? json.json.annotations?.id ?? `policy${index}` : `policy${index}`;
    if (!options.builtIn && RESERVED_ID_PREFIXES.some((p) => id.startsWith(p))) problems.push({ message: `policy id '${id}' is reserved for Custos (ids starting with ${RESERVED_ID_PREFIXES.join(' or ')})`, line: null, column: null, policy: id });
    else if (id in out) problems.push({ message: `two policies have the id '${id}'`, line: null, column: null, policy: id });
    else out[id] = policy;
  });
  if (problems.length) throw new CedarTextError(problems);
  return out;
}

export class CedarTextError extends Error {
  constructor(readonly problems: PolicyProblem[]) {
    super(problems.map((p) => (p.line ? `${p.line}:${p.column}: ${p.message}` : p.message)).join('; '));
    this.name = 'CedarTextError';
  }
}

/** The namespace of an application's own actions (AuthZEN PEPs deciding on their own objects). */
export const APP_NAMESPACE = 'App';

/**
 * An application schema: a Cedar schema fragment in namespace `App` declaring actions only (e.g. `can_update_todo`),
 * which apply to `Custos::AppResource`s. It extends the shipped schema for validation and names the application
 * actions a decision accepts. Returns the actions, or throws CedarTextError: a fragment may not declare entity or
 * common types, another namespace, or redeclare Custos.
 */
export function appActionsOf(appSchema: string): string[] {
  const answer = engine(() => cedar.schemaToJson(`${CUSTOS_SCHEMA}\n${appSchema}`));
  if (answer.type === 'failure') {
    throw new CedarTextError(answer.errors.map((e) => ({ message: `application schema: ${e.message}`, line: null, column: null, policy: null })));
  }
  const namespaces = Object.keys(answer.json).filter((ns) => ns !== 'Custos');
  const problems: PolicyProblem[] = [];
  const fail = (message: string) => problems.push({ message: `application schema: ${message}`, line: null, column: null, policy: null });
  if (namespaces.some((ns) => ns !== APP_NAMESPACE)) fail(`only namespace ${APP_NAMESPACE} may be declared (found ${namespaces.map((n) => n || '(none)').join(', ')})`);
  const app = answer.json[APP_NAMESPACE];
  if (app && (Object.keys(app.entityTypes ?? {}).length || Object.keys(app.commonTypes ?? {}).length)) fail('declare actions only: entity and common types are Custos\'s');
  const baseline = engine(() => cedar.schemaToJson(CUSTOS_SCHEMA));
  if (baseline.type === 'success' && JSON.stringify(baseline.json.Custos) !== JSON.stringify(answer.json.Custos)) fail('the Custos namespace may not be changed');
  if (problems.length) throw new CedarTextError(problems);
  return Object.keys(app?.actions ?? {}).sort();
}

/**
 * Parses and validates user policy text against the shipped schema (strict mode), extended by an application
 * schema when given. Returns every problem, each with line and column in `text`; an empty list means the text is a
 * valid Custos policy set.
 */
export function validatePolicyText(text: string, appSchema?: string | null): PolicyProblem[] {
  const found: PolicyProblem[] = [];
  try {
    splitPolicies(text);
  } catch (error) {
    if (!(error instanceof CedarTextError)) throw error;
    // Text that does not parse has nothing more to validate; id problems (repeated, reserved) do not hide the rest.
    if (error.problems.some((p) => p.policy === null)) return error.problems;
    found.push(...error.problems);
  }
  try {
    if (appSchema) appActionsOf(appSchema);
  } catch (error) {
    if (error instanceof CedarTextError) return [...found, ...error.problems];
    throw error;
  }
  // Validated as one text so that offsets are offsets in what the author wrote; ids there are positional.
  const schema = appSchema ? `${CUSTOS_SCHEMA}\n${appSchema}` : CUSTOS_SCHEMA;
  const answer = engine(() => cedar.validate({ schema, policies: { staticPolicies: text }, validationSettings: { mode: 'strict' } }));
  if (answer.type === 'failure') return [...found, ...answer.errors.map((e) => problem(text, e.message, e.sourceLocations?.[0]?.start, null))];
  return [...found, ...answer.validationErrors.map((e) => problem(text, e.error.message, e.error.sourceLocations?.[0]?.start, e.policyId))];
}

/** The JSON form of a set's policies and templates (what usage.ts reads). */
export function policySetJson(set: PolicySet): PolicyJson[] {
  const out: PolicyJson[] = [];
  const statics = set.staticPolicies;
  const texts = typeof statics === 'string' ? [statics] : Array.isArray(statics) ? statics : Object.values(statics ?? {});
  for (const policy of texts) {
    if (typeof policy !== 'string') { out.push(policy); continue; }
    const parts = engine(() => cedar.policySetTextToParts(policy));
    if (parts.type === 'failure') throw new CedarTextError(parts.errors.map((e) => ({ message: e.message, line: null, column: null, policy: null })));
    for (const part of parts.policies) {
      const json = engine(() => cedar.policyToJson(part));
      if (json.type === 'failure') throw new CedarTextError(json.errors.map((e) => ({ message: e.message, line: null, column: null, policy: null })));
      out.push(json.json);
    }
  }
  for (const template of Object.values(set.templates ?? {})) {
    if (typeof template !== 'string') { out.push(template); continue; }
    const json = engine(() => cedar.templateToJson(template));
    if (json.type === 'failure') throw new CedarTextError(json.errors.map((e) => ({ message: e.message, line: null, column: null, policy: null })));
    out.push(json.json);
  }
  return out;
}

/** Cedar's formatter (`custos policy fmt`-style output); throws CedarTextError when the text does not parse. */
export function formatPolicyText(text: string): string {
  const answer = engine(() => cedar.formatPolicies({ policyText: text }));
  if (answer.type === 'failure') throw new CedarTextError(answer.errors.map((e) => problem(text, e.message, e.sourceLocations?.[0]?.start, null)));
  return answer.formatted_policy;
}

/** Parses a policy set once into the engine's thread-local cache under `id`; throws CedarTextError on failure. */
export function preparse(id: string, set: PolicySet): void {
  const answer = engine(() => cedar.preparsePolicySet(id, set));
  if (answer.type === 'failure') throw new CedarTextError(answer.errors.map((e) => ({ message: e.message, line: null, column: null, policy: null })));
}

export interface CedarAnswer {
  decision: 'allow' | 'deny';
  /** Determining policies: the permits of an allow, the forbids of a deny. */
  determining: string[];
  errors: Array<{ policy: string; message: string }>;
}

/** One evaluation against a pre-parsed policy set. A request Cedar cannot evaluate comes back as a deny with errors. */
export function authorize(call: StatefulAuthorizationCall): CedarAnswer {
  const answer = engine(() => cedar.statefulIsAuthorized(call));
  if (answer.type === 'failure') {
    return { decision: 'deny', determining: [], errors: answer.errors.map((e) => ({ policy: '', message: e.message })) };
  }
  const { decision, diagnostics } = answer.response;
  return { decision, determining: diagnostics.reason, errors: diagnostics.errors.map((e) => ({ policy: e.policyId, message: e.error.message })) };
}

/** Checks that the schema itself parses (start-up and tests). */
export function checkSchema(): void {
  const answer = engine(() => cedar.checkParseSchema(CUSTOS_SCHEMA));
  if (answer.type === 'failure') throw new Error(`the shipped Cedar schema does not parse: ${answer.errors.map((e) => e.message).join('; ')}`);
}
