// Policy test cases: `request → expected decision`, written in YAML beside the Cedar text and stored with the policy
// version (docs/policies.md describes the format). Pure: parsing, and turning a case into the decision request and
// the Cedar context it is evaluated with.
//
// Rules:
// - YAML through the `yaml` package (duplicate keys and syntax errors are problems with a line and column), the shape
//   through zod (strict objects: a misspelt field is an error, never silently ignored). A file is a list of cases, or
//   a map with `cases:`; at most MAX_CASES cases, names unique.
// - A case states its whole context (defaults below), and the same context is used by the server (activation) and by
//   `custos policy test` offline: a test never depends on when or where it runs, on configured network zones or on
//   device records. Time defaults to DEFAULT_TIME (a Monday, 12:00 UTC).
// - The context is built by the decision point's own builder (context.ts), so a case sees exactly the shape a live
//   decision has. Attestation follows the same rule as live: `auth_method: federated` on a non-human principal.
import { isMap, isSeq, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { ACTIONS, NO_FACTS, type Asserted, type DecisionRequest, type ResourceTarget } from '../contracts.js';
import { buildContext } from '../context.js';

export const MAX_CASES = 1000;
/** Monday 6 January 2025, 12:00 UTC: the time a case without `time` is evaluated at. */
export const DEFAULT_TIME = new Date('2025-01-06T12:00:00Z');

/** Resource kinds of the registry: `{type: <kind>, id}` addresses a registry resource. */
export const REGISTRY_KINDS = ['model', 'dataset', 'training_pipeline', 'endpoint', 'tool', 'vector_index'] as const;

const AUTH_METHODS = { private_key_jwt: 'private_key_jwt', client_secret: 'client_secret', api_key: 'api_key', federated: 'federated', operator: 'operator_token', none: 'none' } as const;
const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;

const text = (max: number) => z.string().min(1).max(max);
const assertedValues = z.record(z.string().min(1).max(200), z.unknown());

const contextSchema = z.strictObject({
  delegation: z.array(text(200)).max(16).optional().describe('names (or ids) of the act chain, outermost first'),
  auth_method: z.enum(Object.keys(AUTH_METHODS) as [keyof typeof AUTH_METHODS]).optional(),
  credential: z.enum(['access_token', 'api_key', 'operator_token', 'none']).optional(),
  dpop_bound: z.boolean().optional(),
  token_age_seconds: z.number().int().min(0).max(10 * 365 * 86_400).optional(),
  source_ip: text(100).optional(),
  zone: text(200).optional(),
  via: z.enum(['direct', 'gateway']).optional(),
  workload_id: text(2000).optional(),
  posture: z.enum(['compliant', 'noncompliant', 'unknown']).optional(),
  device_id: text(200).optional(),
  time: z.strictObject({
    at: z.iso.datetime({ offset: true }).optional(),
    hour: z.number().int().min(0).max(23).optional(),
    weekday: z.enum(WEEKDAYS).optional(),
  }).optional(),
  risk: z.number().int().min(0).max(100).optional(),
});

const resourceSchema = z.union([
  text(200).describe('a registry resource by name or id'),
  z.strictObject({ type: text(200).describe(`a resource kind (${REGISTRY_KINDS.join(', ')}), api, or an application's object type`), id: text(500).optional() }),
]);

export const testCaseSchema = z.strictObject({
  name: text(300),
  principal: text(200),
  action: z.string().min(1).max(200).regex(/^[A-Za-z_][A-Za-z0-9_.:-]*$/, 'an action name: a Custos action, or one the application schema declares').describe(`a Custos action (${ACTIONS.join(', ')}) or an application action`),
  resource: resourceSchema,
  purpose: text(200).optional(),
  context: contextSchema.optional(),
  asserted: z.strictObject({ subject: assertedValues.optional(), resource: assertedValues.optional(), context: assertedValues.optional() }).optional(),
  expect: z.enum(['allow', 'deny']),
});
export type TestCase = z.infer<typeof testCaseSchema>;

const listSchema = z.array(testCaseSchema).max(MAX_CASES);
const mapSchema = z.strictObject({ cases: listSchema });

export interface InputProblem {
  message: string;
  line: number | null;
  column: number | null;
  /** The test case's name, when the problem is inside one. */
  case?: string;
}

export class TestCasesError extends Error {
  constructor(readonly problems: InputProblem[]) {
    super(problems.map((p) => (p.line ? `${p.line}:${p.column}: ${p.message}` : p.message)).join('; '));
    this.name = 'TestCasesError';
  }
}

/** Parses a YAML text of test cases; throws TestCasesError listing every problem with its line and column. */
export function parseTestCases(source: string): TestCase[] {
  const lines = new LineCounter();
  const doc = parseDocument(source, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length) {
    throw new TestCasesError(yamlProblems(doc, lines));
  }
  const value: unknown = doc.toJS({ maxAliasCount: 100 }) ?? [];
  if (!Array.isArray(value) && (typeof value !== 'object' || value === null)) {
    throw new TestCasesError([{ message: 'expected a list of test cases (or a map with `cases:`)', line: 1, column: 1 }]);
  }
  const parsed = Array.isArray(value) ? listSchema.safeParse(value) : mapSchema.safeParse(value);
  if (!parsed.success) {
    throw new TestCasesError(parsed.error.issues.slice(0, 50).map((i) => {
      const path = i.path.filter((p): p is string | number => typeof p !== 'symbol');
      const node = nodeAt(doc, path);
      const pos = node?.range ? lines.linePos(node.range[0]) : undefined;
      const name = caseName(value, path);
      return { message: `${path.length ? path.join('.') + ': ' : ''}${i.message}`, line: pos?.line ?? null, column: pos?.col ?? null, ...(name ? { case: name } : {}) };
    }));
  }
  const cases = Array.isArray(parsed.data) ? parsed.data : (parsed.data as z.infer<typeof mapSchema>).cases;
  const seen = new Set<string>();
  const dupes = cases.filter((c) => (seen.has(c.name) ? true : (seen.add(c.name), false)));
  if (dupes.length) throw new TestCasesError(dupes.map((c) => ({ message: `two test cases are named '${c.name}'`, line: null, column: null, case: c.name })));
  const bad = cases.flatMap((c) => {
    try {
      caseTarget(c);
      return [];
    } catch (error) {
      if (error instanceof TestCasesError) return error.problems;
      throw error;
    }
  });
  if (bad.length) throw new TestCasesError(bad);
  return cases;
}

/** YAML syntax problems with their line and column. */
export function yamlProblems(doc: ReturnType<typeof parseDocument>, lines: LineCounter, prefix = ''): InputProblem[] {
  return doc.errors.map((e) => {
    const pos = lines.linePos(e.pos[0]);
    return { message: `${prefix}${e.message.split('\n')[0]!}`, line: pos.line, column: pos.col };
  });
}

function nodeAt(doc: ReturnType<typeof parseDocument>, path: Array<string | number>): { range?: [number, number, number] | null } | undefined {
  let node: unknown = doc.contents;
  let last: unknown = node;
  for (const key of path) {
    if (isSeq(node)) node = node.items[Number(key)];
    else if (isMap(node)) node = node.get(key, true);
    else break;
    if (node === undefined) break;
    last = node;
  }
  return last as { range?: [number, number, number] | null } | undefined;
}

function caseName(value: unknown, path: Array<string | number>): string | undefined {
  const list = Array.isArray(value) ? value : (value as { cases?: unknown[] } | null)?.cases;
  const index = Array.isArray(value) ? path[0] : path[0] === 'cases' ? path[1] : undefined;
  const c = Array.isArray(list) && typeof index === 'number' ? list[index] as { name?: unknown } : undefined;
  return typeof c?.name === 'string' ? c.name : undefined;
}

/**
 * Cases whose action is neither a Custos action nor one of the application schema's, or an application action on
 * something that is not an application object (the decision point refuses both as unknown_action).
 */
export function actionProblems(cases: TestCase[], actions: { custos: ReadonlySet<string>; app: ReadonlySet<string> }): InputProblem[] {
  const out: InputProblem[] = [];
  for (const c of cases) {
    if (actions.custos.has(c.action)) continue;
    if (!actions.app.has(c.action)) out.push({ message: `action '${c.action}' is neither a Custos action nor declared by the application schema`, line: null, column: null, case: c.name });
    else if (caseTarget(c).kind !== 'app') out.push({ message: `application action '${c.action}' applies only to application objects ({type: <your type>, id})`, line: null, column: null, case: c.name });
  }
  return out;
}

/** Where a case's resource points. */
export function caseTarget(c: TestCase): ResourceTarget {
  if (typeof c.resource === 'string') return { kind: 'registry', ref: c.resource };
  const { type, id } = c.resource;
  if (type === 'api') return { kind: 'api' };
  if ((REGISTRY_KINDS as readonly string[]).includes(type)) {
    if (!id) throw new TestCasesError([{ message: `resource of type '${type}' needs an id (its name or registry id)`, line: null, column: null, case: c.name }]);
    return { kind: 'registry', ref: id, resourceKind: type };
  }
  if (!id) throw new TestCasesError([{ message: `resource of type '${type}' needs an id`, line: null, column: null, case: c.name }]);
  return { kind: 'app', type, id };
}

function caseAsserted(c: TestCase): Asserted | undefined {
  if (!c.asserted) return undefined;
  const a: Asserted = {};
  if (c.asserted.subject) a.subject = c.asserted.subject;
  if (c.asserted.resource) a.resource = c.asserted.resource;
  if (c.asserted.context) a.context = c.asserted.context;
  return Object.keys(a).length ? a : undefined;
}

function caseTime(c: TestCase): Date {
  return c.context?.time?.at ? new Date(c.context.time.at) : DEFAULT_TIME;
}

/** The decision request a case stands for (its facts; the context is `caseContext`). */
export function caseRequest(c: TestCase): DecisionRequest {
  const x = c.context ?? {};
  const authMethod = AUTH_METHODS[x.auth_method ?? 'private_key_jwt'];
  const now = caseTime(c);
  const asserted = caseAsserted(c);
  return {
    principal: c.principal,
    action: c.action,
    resource: caseTarget(c),
    facts: {
      ...NO_FACTS,
      purpose: c.purpose ?? null,
      delegationChain: x.delegation ?? [],
      authMethod,
      credentialKind: x.credential ?? (authMethod === 'operator_token' ? 'operator_token' : authMethod === 'api_key' ? 'api_key' : authMethod === 'none' ? 'none' : 'access_token'),
      dpopBound: x.dpop_bound ?? false,
      issuedAt: new Date(now.getTime() - (x.token_age_seconds ?? 0) * 1000),
      sourceIp: x.source_ip ?? null,
      via: x.via ?? 'direct',
      workloadId: x.workload_id ?? null,
      risk: x.risk ?? 0,
    },
    ...(asserted ? { asserted } : {}),
    requestId: null,
  };
}

/**
 * The Cedar context a case is evaluated with. `principalKind` is the acting principal's kind and `chainNames` the
 * names of its act chain (the registry's, or the offline entities file's).
 */
export function caseContext(c: TestCase, principalKind: string, chainNames: string[]): Record<string, unknown> {
  const x = c.context ?? {};
  const request = caseRequest(c);
  const context = buildContext({
    facts: request.facts, principalKind, chainNames, zone: x.zone ?? '',
    posture: { posture: x.posture ?? 'unknown', id: x.device_id ?? '', source: x.posture && x.posture !== 'unknown' ? 'record' : 'none' },
    now: caseTime(c), timeZone: 'UTC', assertedRequest: request.asserted?.context !== undefined,
  });
  const time = context.time as { epoch_seconds: number; hour: number; weekday: string };
  if (x.time?.hour !== undefined) time.hour = x.time.hour;
  if (x.time?.weekday !== undefined) time.weekday = x.time.weekday;
  return context;
}

/** One case's outcome. */
export interface CaseResult {
  name: string;
  expect: 'allow' | 'deny';
  got: 'allow' | 'deny';
  passed: boolean;
  /** The decision's reasons, one line each (`permit:<policy>@<principal>`, `forbid:…`, `error:…`, `no_permit@…`, `refused:…`). */
  reasons: string[];
}

/**
 * Warnings for deny cases that passed only because the decision point refused the request as unknown (a principal,
 * chain principal, resource or action it does not know): such a case says nothing about the policies, and is most
 * often a name missing from the registry (or the entities file) or misspelt.
 */
export function refusalWarnings(results: CaseResult[]): string[] {
  const out: string[] = [];
  for (const r of results) {
    if (!r.passed || r.expect !== 'deny') continue;
    const refusal = r.reasons.find((x) => x.startsWith('refused:unknown_'));
    if (refusal) out.push(`case '${r.name}' passed only because the request was refused (${refusal}): it tests no policy; is every name it uses registered (or in the entities file)?`);
  }
  return out;
}
