// A policy repository's files as the offline commands see them (the CLI reads the files): Cedar files are first
// screened (cedar-screen.ts: a hostile file costs a worker thread, not the CLI's engine), then checked one by one (so
// a problem's line and column are in the file that has it), then together (an id used in two files is a problem of
// both), and combined into the one text a policy version holds, each file's part opened by a `// file: <path>`
// comment. Test files are parsed one by one and their cases combined (names unique overall).
//
// A path is not Cedar: POSIX and git allow any byte but `/` and NUL in a file name, newlines included, so the path in
// the `// file:` comment is escaped (control, line-separator and bidirectional characters as `\u{…}`) and cannot end
// the comment; `combinedIdProblems` checks that the combined text holds exactly the files' policies.
import { stringify } from 'yaml';
import { screenPolicyInput } from '../cedar-screen.js';
import { actionProblems, parseTestCases, TestCasesError, type InputProblem, type TestCase } from './test-cases.js';
import { knownActions, policyIds, policyProblems, problemLine, type PolicyProblem } from './validation.js';

export interface SourceFile {
  path: string;
  text: string;
}

export type FileProblem = (PolicyProblem | InputProblem) & { file: string };

/** `file:line:column: …`, or `file: …` for a problem without a place (a repeated id, a test case's action). */
export function fileProblemLine(p: FileProblem): string {
  return `${p.file}:${p.line ? '' : ' '}${problemLine(p)}`;
}

/** Characters a path may not carry into policy text as they are: C0/C1 controls, line separators, bidi controls. */
const UNSAFE_PATH_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

/** True when a path holds a character that `// file:` would have to escape (the CLI refuses such paths). */
export function unsafePath(path: string): boolean {
  return new RegExp(UNSAFE_PATH_CHARS.source, 'u').test(path);
}

/** A path as the `// file:` comment shows it: unsafe characters as `\u{hex}`, so it stays one comment line. */
export function escapePath(path: string): string {
  return path.replace(UNSAFE_PATH_CHARS, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
}

/**
 * Screens each Cedar file (and the application schema) in a worker before anything here parses it: nesting deep
 * enough to overflow the engine is a problem of that file, and the other files are still checked.
 */
export async function screenPolicyFiles(files: SourceFile[], appSchema?: SourceFile): Promise<FileProblem[]> {
  const problems: FileProblem[] = [];
  if (appSchema) {
    for (const p of await screenPolicyInput({ policies: '', appSchema: appSchema.text })) problems.push({ ...p, file: appSchema.path });
  }
  for (const f of files) for (const p of await screenPolicyInput({ policies: f.text })) problems.push({ ...p, file: f.path });
  return problems;
}

/**
 * Every problem of a set of Cedar files (validated against the shipped schema, extended by an application schema
 * when given), and the policy ids they define (in order) when there is none.
 */
export function checkPolicyFiles(files: SourceFile[], appSchema?: SourceFile): { problems: FileProblem[]; ids: string[] } {
  const problems: FileProblem[] = [];
  const where = new Map<string, string[]>();
  for (const f of files) {
    const own = policyProblems(f.text, appSchema?.text);
    // A broken application schema is its own file's problem, reported once.
    if (appSchema && own.some((p) => p.message.startsWith('application schema:'))) {
      if (!problems.some((p) => p.file === appSchema.path)) problems.push(...own.filter((p) => p.message.startsWith('application schema:')).map((p) => ({ ...p, file: appSchema.path })));
      continue;
    }
    problems.push(...own.map((p) => ({ ...p, file: f.path })));
    if (own.length === 0) for (const id of policyIds(f.text)) where.set(id, [...(where.get(id) ?? []), f.path]);
  }
  for (const [id, paths] of where) {
    if (paths.length > 1) problems.push({ message: `the id '${id}' is used in ${paths.join(' and ')}; policy ids must be unique across files`, line: null, column: null, policy: id, file: paths[0]! });
  }
  return { problems, ids: [...where.keys()] };
}

/** The one text a version holds: each file's policies after a `// file:` comment naming it (path escaped). */
export function combinePolicyFiles(files: SourceFile[]): string {
  if (files.length === 1) return files[0]!.text;
  return files.map((f) => `// file: ${escapePath(f.path)}\n${f.text.replace(/\s*$/, '')}\n`).join('\n');
}

/**
 * Problems when the combined text does not hold exactly the policies of the files, in their order (it always should:
 * this is the check that nothing but the files' text became policy).
 */
export function combinedIdProblems(combined: string, ids: string[]): PolicyProblem[] {
  let got: string[];
  try {
    got = policyIds(combined);
  } catch {
    return [{ message: 'the combined text of the files does not parse although each file does', line: null, column: null, policy: null }];
  }
  if (got.length === ids.length && got.every((id, i) => id === ids[i])) return [];
  return [{ message: `the combined text holds the policies ${got.join(', ') || '(none)'}, not the files' ${ids.join(', ') || '(none)'}`, line: null, column: null, policy: null }];
}

/** Parses test files; their cases in file order, with the problems of each file (actions checked against `appSchema`). */
export function readTestFiles(files: SourceFile[], appSchema?: SourceFile): { cases: TestCase[]; problems: FileProblem[] } {
  const actions = knownActions(appSchema?.text);
  const cases: TestCase[] = [];
  const problems: FileProblem[] = [];
  const seen = new Map<string, string>();
  for (const f of files) {
    try {
      const parsed = parseTestCases(f.text);
      problems.push(...actionProblems(parsed, actions).map((p) => ({ ...p, file: f.path })));
      for (const c of parsed) {
        const other = seen.get(c.name);
        if (other) problems.push({ message: `two test cases are named '${c.name}' (also in ${other})`, line: null, column: null, case: c.name, file: f.path });
        seen.set(c.name, f.path);
        cases.push(c);
      }
    } catch (error) {
      if (!(error instanceof TestCasesError)) throw error;
      problems.push(...error.problems.map((p) => ({ ...p, file: f.path })));
    }
  }
  return { cases, problems };
}

/** The YAML text a version stores for test files: the one file as written, or the combined list. */
export function combineTestFiles(files: SourceFile[], cases: TestCase[]): string | undefined {
  if (files.length === 0) return undefined;
  if (files.length === 1) return files[0]!.text;
  return stringify(cases);
}
