// A policy repository's files as the offline commands see them (pure: the CLI reads the files): Cedar files are
// checked one by one (so a problem's line and column are in the file that has it), then together (an id used in
// two files is a problem of both), and combined into the one text a policy version holds, each file's part opened
// by a `// file: <path>` comment. Test files are parsed one by one and their cases combined (names unique overall).
import { stringify } from 'yaml';
import { actionProblems, parseTestCases, TestCasesError, type InputProblem, type TestCase } from './test-cases.js';
import { knownActions, policyIds, policyProblems, problemLine, type PolicyProblem } from './validation.js';

export interface SourceFile {
  path: string;
  text: string;
}

export type FileProblem = (PolicyProblem | InputProblem) & { file: string };

export function fileProblemLine(p: FileProblem): string {
  return `${p.file}:${problemLine(p)}`;
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

/** The one text a version holds: each file's policies after a `// file:` comment naming it. */
export function combinePolicyFiles(files: SourceFile[]): string {
  if (files.length === 1) return files[0]!.text;
  return files.map((f) => `// file: ${f.path}\n${f.text.replace(/\s*$/, '')}\n`).join('\n');
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
