import fs from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import type { Activated, CaseResult, FileProblem, Impact, SourceFile, TestReport, VersionSummary, VersionView } from '../../authz/policies/index.js';
import { CliError } from '../client.js';
import { defined, examples, fetchPages, integerIn, pageOptions, withClient, type GlobalOptions } from '../common.js';
import { printJson, printRecord, printTable, sanitizeCell, type CliIo } from '../output.js';

// `custos policy …`: policy as code. validate, test and diff work offline on the files of a policy repository
// (policies/*.cedar, tests/*.yaml, entities.yaml; docs/policies.md), so CI can check them without a server; apply,
// activate, rollback, history, show and impact talk to the server. The offline commands load Cedar only when run
// (a dynamic import), so the other commands start as fast as before.
//
// Every Cedar file is screened in a worker thread before this process's engine parses it (cedar-screen.ts): a file
// nested deeply enough to overflow the engine is reported as that file's problem instead of crashing the command.
// A path holding control, line-separator or bidirectional characters is refused (its name would be written into
// the version's text), and the combined text is checked to hold exactly the files' policies.
//
// Exit codes: 0 ok; 1 problems found, tests failed (or, with --strict, a deny case passed only because the request
// was refused), the server refused, or (impact --fail-on-flip) a decision would flip; 2 bad input (a path that does
// not exist, a directory without .cedar files, no entities file, --activate without --reason, a path with --stored).

const CEDAR = ['.cedar'];
const YAML = ['.yaml', '.yml', '.json'];
const DEFAULT_ENTITIES = 'entities.yaml';

const offline = () => import('../../authz/policies/index.js');
type Offline = Awaited<ReturnType<typeof offline>>;

/** The files a list of paths names: files as given, directories by extension (sorted, not recursive). */
function collect(m: Offline, paths: string[], exts: string[], what: string, required = true): SourceFile[] {
  const files: string[] = [];
  for (const p of paths) {
    if (m.unsafePath(p)) throw new CliError(`${sanitizeCell(p)}: a path with control, line-separator or bidirectional characters is not accepted (rename it)`, 2);
    let stat: fs.Stats;
    try {
      stat = fs.statSync(p);
    } catch {
      throw new CliError(`${p}: no such file or directory`, 2);
    }
    if (stat.isDirectory()) {
      const inDir = fs.readdirSync(p).filter((f) => exts.includes(path.extname(f))).sort().map((f) => path.join(p, f));
      if (inDir.length === 0 && required) throw new CliError(`${p}: no ${what} files (${exts.join(', ')}) in this directory`, 2);
      const unsafe = inDir.find((f) => m.unsafePath(f));
      if (unsafe) throw new CliError(`${sanitizeCell(unsafe)}: a file name with control, line-separator or bidirectional characters is not accepted (rename it)`, 2);
      files.push(...inDir);
    } else files.push(p);
  }
  return files.map((f) => {
    try {
      return { path: f, text: fs.readFileSync(f, 'utf8') };
    } catch (error) {
      throw new CliError(`${f}: cannot read (${(error as NodeJS.ErrnoException).code ?? 'error'})`, 2);
    }
  });
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/**
 * Prints every problem (or, with --json, `{files, errors}`) and fails with a one-line summary. A hint is added when
 * the problems come from application actions and no application schema was given.
 */
function reportProblems(io: CliIo, g: GlobalOptions, m: Offline, problems: FileProblem[], files: SourceFile[], appSchemaGiven: boolean): never {
  const hint = !appSchemaGiven && problems.some((p) => /App::|declared by the application schema/.test(p.message))
    ? 'hint: these name application (App::) actions: give their schema with --app-schema <file>' : undefined;
  if (g.json) printJson(io, { files: files.map((f) => f.path), errors: problems, ...(hint ? { hint } : {}) });
  else {
    for (const p of problems) io.stdout.write(`${sanitizeCell(m.fileProblemLine(p))}\n`);
    if (hint) io.stdout.write(`${hint}\n`);
  }
  const count = new Set(problems.map((p) => p.file)).size;
  throw new CliError(`${plural(problems.length, 'problem')} in ${plural(count, 'file')}`, 1);
}

/** The application schema file (--app-schema), when given. */
function readAppSchema(m: Offline, file: string | undefined): SourceFile | undefined {
  return file === undefined ? undefined : collect(m, [file], ['.cedarschema'], 'schema')[0];
}

/**
 * Reads, screens and checks the Cedar files: the combined text, the policy ids, and every problem (a file the
 * screening refuses is not parsed here at all; the others are still checked).
 */
async function readPolicies(m: Offline, paths: string[], appSchema?: SourceFile): Promise<{ files: SourceFile[]; text: string; ids: string[]; problems: FileProblem[] }> {
  const files = collect(m, paths, CEDAR, 'Cedar');
  const unsafe = await m.screenPolicyFiles(files, appSchema);
  if (appSchema && unsafe.some((p) => p.file === appSchema.path)) return { files, text: '', ids: [], problems: unsafe };
  const safe = files.filter((f) => !unsafe.some((p) => p.file === f.path));
  const { problems, ids } = m.checkPolicyFiles(safe, appSchema);
  const all = [...unsafe, ...problems];
  if (all.length) return { files, text: '', ids, problems: all };
  const text = m.combinePolicyFiles(files);
  const combined = m.combinedIdProblems(text, ids).map((p) => ({ ...p, file: files.map((f) => f.path).join(' + ') }));
  return { files, text, ids, problems: combined };
}

const appSchemaOption = ['--app-schema <file>', 'a Cedar schema fragment (namespace App) declaring an application\'s own actions'] as const;

function printResults(io: CliIo, results: CaseResult[]): void {
  printTable(io, ['RESULT', 'CASE', 'EXPECT', 'GOT', 'REASONS'], results.map((r) => [r.passed ? 'pass' : 'FAIL', r.name, r.expect, r.got, r.reasons.join(', ')]));
}

function printWarnings(io: CliIo, warnings: string[] | undefined): void {
  for (const w of warnings ?? []) io.stderr.write(`warning: ${sanitizeCell(w)}\n`);
}

const versionArg = integerIn('version', 1, 2_147_483_647);

function activatedLine(a: Activated): string {
  const t = a.test_report;
  return `version ${a.active.version} is active${a.previous !== null ? ` (was ${a.previous})` : ''}; tests: ${t.passed} passed, ${t.failed} failed\n`;
}

/**
 * An activation the server refused: the failing cases as a table (or, with --json, the refusal's body) on stdout,
 * then the one-line error. `created` is the report of the version's creation, moments before (the same tests on the
 * same registry), used when the refusal does not carry its body.
 */
function refusedActivation(io: CliIo, g: GlobalOptions, error: unknown, created?: TestReport): never {
  if (!(error instanceof CliError)) throw error;
  const body = (error as CliError & { problem?: Record<string, unknown> }).problem;
  const testsFailed = body ? body.code === 'policy_tests_failed' : /\(policy_tests_failed\)$/.test(error.message);
  const failures = Array.isArray(body?.failures) ? body.failures as CaseResult[] : testsFailed ? created?.results.filter((r) => !r.passed) : undefined;
  if (g.json) {
    if (body) printJson(io, body);
    else if (testsFailed) printJson(io, { code: 'policy_tests_failed', detail: error.message.replace(/ \(policy_tests_failed\)$/, ''), failures: failures ?? [] });
  } else if (failures?.length) printResults(io, failures);
  else if (Array.isArray(body?.errors)) {
    for (const p of body.errors as Array<{ message: string; line: number | null; column: number | null }>) io.stdout.write(`${sanitizeCell(`${p.line ? `${p.line}:${p.column}: ` : ''}${p.message}`)}\n`);
  }
  throw error;
}

export function registerPolicyCommands(program: Command, io: CliIo): void {
  const policy = program.command('policy').description('policy as code: validate, test and diff Cedar files offline; apply, activate, roll back and replay against the server')
    .addHelpText('after', examples(
      'custos policy validate policies/',
      'custos policy test --policies policies --tests tests --entities entities.yaml',
      'custos policy apply policies/ --tests tests/ --activate --reason "PR #42"',
    ));

  policy.command('validate').argument('[paths...]', 'Cedar files or directories of them', ['policies'])
    .description('parse and validate Cedar files against the Custos schema (strict), offline; problems as file:line:column')
    .option(...appSchemaOption)
    .addHelpText('after', examples('custos policy validate policies/', 'custos policy validate policies/models.cedar policies/data.cedar'))
    .action(async (paths: string[], o: { appSchema?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals() as GlobalOptions;
      const m = await offline();
      const appSchema = readAppSchema(m, o.appSchema);
      const { files, ids, problems } = await readPolicies(m, paths, appSchema);
      if (problems.length) reportProblems(io, g, m, problems, files, appSchema !== undefined);
      if (g.json) printJson(io, { files: files.map((f) => f.path), policies: ids });
      else io.stdout.write(`ok: ${plural(files.length, 'file')}, ${plural(ids.length, 'policy', 'policies')} (${ids.join(', ')})\n`);
    });

  policy.command('fmt').argument('[paths...]', 'Cedar files or directories of them', ['policies'])
    .description('format Cedar files with Cedar\'s own formatter, offline: prints the formatted text, --write rewrites the files, --check only lists the files that are not formatted (exit 1)')
    .option('--write', 'rewrite each file that is not formatted')
    .option('--check', 'change nothing; exit 1 when a file is not formatted (for CI)')
    .addHelpText('after', examples('custos policy fmt policies/models.cedar', 'custos policy fmt --check policies/', 'custos policy fmt --write policies/'))
    .action(async (paths: string[], o: { write?: boolean; check?: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals() as GlobalOptions;
      if (o.write && o.check) throw new CliError('--write and --check exclude each other', 2);
      const m = await offline();
      const [{ formatPolicyText, CedarTextError }, { screenCedar }] = await Promise.all([import('../../authz/cedar.js'), import('../../authz/cedar-screen.js')]);
      const files = collect(m, paths, CEDAR, 'Cedar');
      const unformatted: string[] = [];
      for (const file of files) {
        // Hostile text is refused before the engine parses it (cedar-screen.ts).
        const screened = await screenCedar({ policies: file.text });
        if (screened.length) throw new CliError(`${file.path}: ${screened[0]!.message}`, 1);
        let formatted: string;
        try {
          formatted = formatPolicyText(file.text);
        } catch (error) {
          if (error instanceof CedarTextError) throw new CliError(`${file.path}: ${error.message} (custos policy validate ${file.path} shows where)`, 1);
          throw error;
        }
        if (!formatted.endsWith('\n')) formatted += '\n';
        if (formatted === file.text) continue;
        unformatted.push(file.path);
        if (o.write) fs.writeFileSync(file.path, formatted);
        else if (!o.check && !g.json) io.stdout.write(files.length > 1 ? `// ${file.path}\n${formatted}` : formatted);
      }
      if (g.json) printJson(io, { files: files.map((f) => f.path), unformatted, written: o.write ? unformatted : [] });
      else if (o.write) io.stdout.write(`${plural(unformatted.length, 'file')} rewritten of ${files.length}\n`);
      else if (o.check) for (const f of unformatted) io.stdout.write(`not formatted: ${f}\n`);
      if (o.check && unformatted.length) throw new CliError(`${plural(unformatted.length, 'file')} not formatted: custos policy fmt --write ${paths.join(' ')}`, 1);
    });

  policy.command('test')
    .description('run test cases against Cedar files offline (guardrails included, entities from a file; no server)')
    .option('--policies <paths...>', 'Cedar files or directories', ['policies'])
    .option('--tests <paths...>', 'test case files (YAML) or directories', ['tests'])
    .option('--entities <file>', `teams, principals and resources the cases name (YAML or JSON); default ${DEFAULT_ENTITIES}, which must then exist`)
    .option('--strict', 'fail when a deny case passed only because the request was refused as unknown (refused:unknown_*)')
    .option(...appSchemaOption)
    .addHelpText('after', examples('custos policy test', 'custos policy test --policies policies --tests tests/models.yaml --entities fixtures/entities.yaml'))
    .action(async (o: { policies: string[]; tests: string[]; entities?: string; strict?: boolean; appSchema?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals() as GlobalOptions;
      // Without entities every principal is unknown and every deny case "passes": that is an error, not a default.
      if (o.entities === undefined && !fs.existsSync(DEFAULT_ENTITIES)) {
        throw new CliError(`no ${DEFAULT_ENTITIES} here: the cases need the teams, principals and resources they name; give --entities FILE (docs/policies.md, "Entities for offline tests")`, 2);
      }
      const m = await offline();
      const appSchema = readAppSchema(m, o.appSchema);
      const policies = await readPolicies(m, o.policies, appSchema);
      const testFiles = collect(m, o.tests, YAML, 'test');
      const { cases, problems } = m.readTestFiles(testFiles, appSchema);
      const entitiesFile = collect(m, [o.entities ?? DEFAULT_ENTITIES], YAML, 'entities')[0]!;
      let entities: ReturnType<Offline['parseEntitiesFile']> | undefined;
      const entityProblems: FileProblem[] = [];
      try {
        entities = m.parseEntitiesFile(entitiesFile.text);
      } catch (error) {
        if (!(error instanceof Error && 'problems' in error)) throw error;
        entityProblems.push(...(error as { problems: FileProblem[] }).problems.map((p) => ({ ...p, file: entitiesFile.path })));
      }
      const all = [...policies.problems, ...problems, ...entityProblems];
      if (all.length || !entities) reportProblems(io, g, m, all, [...policies.files, ...testFiles, entitiesFile], appSchema !== undefined);
      const results = m.runCasesOffline(policies.text, cases, entities, m.knownActions(appSchema?.text).app);
      const warnings = m.refusalWarnings(results);
      const failed = results.filter((r) => !r.passed).length;
      if (g.json) printJson(io, { passed: results.length - failed, failed, results, warnings });
      else {
        printResults(io, results);
        io.stdout.write(`${results.length - failed} passed, ${failed} failed${warnings.length ? `, ${plural(warnings.length, 'warning')}` : ''}\n`);
      }
      printWarnings(io, warnings);
      if (failed) throw new CliError(`${failed} of ${plural(results.length, 'test case')} failed`, 1);
      if (o.strict && warnings.length) throw new CliError(`${plural(warnings.length, 'deny case')} passed only because the request was refused (--strict)`, 1);
    });

  policy.command('diff').argument('<old>', 'Cedar file or directory (before)').argument('<new>', 'Cedar file or directory (after)')
    .description('which policies were added, removed or changed, by @id (offline; layout changes are not changes)')
    .option('--text', 'also print how each changed policy changed (a line diff of its text)')
    .addHelpText('after', examples('custos policy diff old/policies policies', 'git show main:policies/models.cedar > /tmp/old.cedar && custos policy diff --text /tmp/old.cedar policies/models.cedar'))
    .action(async (before: string, after: string, o: { text?: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals() as GlobalOptions;
      const m = await offline();
      // Only screened and parsed, not validated: a diff of two versions must work across schema changes.
      const read = async (p: string) => {
        const files = collect(m, [p], CEDAR, 'Cedar');
        const unsafe = await m.screenPolicyFiles(files);
        if (unsafe.length) reportProblems(io, g, m, unsafe, files, true);
        return m.combinePolicyFiles(files);
      };
      const a = await read(before);
      const b = await read(after);
      const d = m.diffPolicies(a, b);
      if (g.json) return printJson(io, d);
      const oldById = o.text ? m.policiesById(a) : {};
      const newById = o.text ? m.policiesById(b) : {};
      for (const id of d.added) io.stdout.write(`+ ${sanitizeCell(id)}\n`);
      for (const id of d.removed) io.stdout.write(`- ${sanitizeCell(id)}\n`);
      for (const id of d.changed) {
        io.stdout.write(`~ ${sanitizeCell(id)}\n`);
        if (o.text) for (const line of m.lineDiff(oldById[id]!, newById[id]!)) io.stdout.write(`    ${sanitizeCell(line)}\n`);
      }
      io.stdout.write(`${d.added.length} added, ${d.removed.length} removed, ${d.changed.length} changed, ${d.unchanged.length} unchanged\n`);
    });

  policy.command('apply').argument('[paths...]', 'Cedar files or directories', ['policies'])
    .description('create a candidate version on the server from Cedar files (checked locally first) and their tests; --activate makes it active if its tests pass')
    .option('--tests <paths...>', 'test case files (YAML) or directories, stored with the version (default: a tests directory next to the first path, when there is one)')
    .option('--no-tests', 'store the version without test cases')
    .option('--description <text>', 'what this version changes')
    .option(...appSchemaOption)
    .option('--activate', 'activate it right away (its tests must pass; the active version is unchanged otherwise)')
    .option('--reason <text>', 'why (recorded in the audit log; required with --activate)')
    .addHelpText('after', examples('custos policy apply policies/ --tests tests/ --description "agents may invoke staging models"', 'custos policy apply policies/ --tests tests/ --activate --reason "PR #42"'))
    .action(withClient(io, async (client, g, paths: string[], o: { tests?: string[] | false; description?: string; appSchema?: string; activate?: boolean; reason?: string }) => {
      if (o.activate && !o.reason) throw new CliError('--activate needs --reason (recorded in the audit log)', 2);
      const m = await offline();
      const appSchema = readAppSchema(m, o.appSchema);
      let testPaths: string[] = [];
      if (Array.isArray(o.tests)) testPaths = o.tests;
      else if (o.tests === undefined) {
        // The same default as `custos policy test`: the tests directory beside the policies.
        const beside = path.join(path.dirname(paths[0] ?? 'policies'), 'tests');
        if (fs.existsSync(beside) && fs.statSync(beside).isDirectory()) testPaths = [beside];
        else io.stderr.write(`warning: no --tests and no ${beside} directory: the version is stored without test cases, so activation runs none (--no-tests says that is meant)\n`);
      }
      const policies = await readPolicies(m, paths, appSchema);
      const testFiles = collect(m, testPaths, YAML, 'test', false);
      const { cases, problems } = m.readTestFiles(testFiles, appSchema);
      const all = [...policies.problems, ...problems];
      if (all.length) reportProblems(io, g, m, all, [...policies.files, ...testFiles], appSchema !== undefined);
      const tests = m.combineTestFiles(testFiles, cases);
      const created = await client.request<VersionView & { test_report: TestReport }>('POST', '/v1/policies', defined({ policies: policies.text, tests, app_schema: appSchema?.text, description: o.description, reason: o.reason }));
      printWarnings(io, created.test_report.warnings);
      if (!o.activate) {
        if (g.json) return printJson(io, created);
        io.stdout.write(`created policy version ${created.version} (candidate): ${created.policy_ids.length} policies, ${created.test_count} tests (${created.test_report.passed} pass, ${created.test_report.failed} fail against the current registry)\n`);
        io.stdout.write(`activate it with: custos policy activate ${created.version} --reason "…"\n`);
        return;
      }
      let a: Activated;
      try {
        a = await client.request<Activated>('POST', `/v1/policies/${created.version}/activate`, { reason: o.reason });
      } catch (error) {
        refusedActivation(io, g, error, created.test_report);
      }
      if (g.json) return printJson(io, a);
      io.stdout.write(activatedLine(a));
    }));

  policy.command('activate').argument('<version>', 'the version number', versionArg)
    .description('activate a version: validated again and its tests run; only if both pass does it replace the active one')
    .requiredOption('--reason <text>', 'why (recorded in the audit log)')
    .addHelpText('after', examples('custos policy activate 7 --reason "reviewed in PR #42"'))
    .action(withClient(io, async (client, g, version: number, o: { reason: string }) => {
      let a: Activated;
      try {
        a = await client.request<Activated>('POST', `/v1/policies/${version}/activate`, { reason: o.reason });
      } catch (error) {
        refusedActivation(io, g, error);
      }
      printWarnings(io, a.test_report.warnings);
      if (g.json) printJson(io, a); else io.stdout.write(activatedLine(a));
    }));

  policy.command('rollback').description('return to the version active before the current one (or --to a version that was active before)')
    .requiredOption('--reason <text>', 'why (recorded in the audit log)')
    .addOption(new Option('--to <version>', 'the version to return to').argParser(versionArg))
    .addHelpText('after', examples('custos policy rollback --reason "v8 denies the billing agents"', 'custos policy rollback --to 5 --reason "back to the audited set"'))
    .action(withClient(io, async (client, g, o: { reason: string; to?: number }) => {
      const a = await client.request<Activated>('POST', '/v1/policies/rollback', defined({ reason: o.reason, to: o.to }));
      if (g.json) printJson(io, a); else io.stdout.write(activatedLine(a));
    }));

  pageOptions(policy.command('history').description('policy versions, newest first (WHY: the activation or rollback reason; for a rejected version, why its activation was refused)')
    .addOption(new Option('--status <status>', 'only versions in this status').choices(['candidate', 'active', 'superseded', 'rejected']))
    .addHelpText('after', examples('custos policy history --limit 10')))
    .action(withClient(io, async (client, g, o) => {
      const params = new URLSearchParams(defined({ status: o.status, limit: o.limit, cursor: o.cursor }) as Record<string, string>);
      const page = await fetchPages<VersionSummary>(client, '/v1/policies', params, Boolean(o.all));
      if (g.json) return printJson(io, page);
      printTable(io, ['VERSION', 'STATUS', 'CREATED', 'ACTIVATED', 'DESCRIPTION', 'WHY'], page.items.map((v) => [
        v.version, v.status, v.created_at.slice(0, 19), v.activated_at?.slice(0, 19), v.description, v.status_reason,
      ]));
      if (page.next_cursor) io.stdout.write(`more: --cursor ${page.next_cursor}\n`);
    }));

  policy.command('show').argument('<version>', 'a version number, or active')
    .description('show a version; --text prints only its Cedar text (to diff or edit)')
    .option('--text', 'print the Cedar text only')
    .addHelpText('after', examples('custos policy show active --text > /tmp/active.cedar && custos policy diff /tmp/active.cedar policies/'))
    .action(withClient(io, async (client, g, ref: string, o: { text?: boolean }) => {
      if (ref !== 'active' && !/^\d+$/.test(ref)) throw new CliError(`'${ref}' is not a version number (or active)`, 2);
      const v = await client.request<VersionView>('GET', `/v1/policies/${ref}`);
      if (o.text) return void io.stdout.write(v.policies.endsWith('\n') ? v.policies : `${v.policies}\n`);
      if (g.json) return printJson(io, v);
      const { policies: _p, tests: _t, created_by_name, activated_by_name, ...rest } = v;
      // People by name (the id when the registry no longer knows them).
      printRecord(io, { ...rest, created_by: created_by_name ?? v.created_by, activated_by: activated_by_name ?? v.activated_by });
    }));

  policy.command('impact').argument('[paths...]', 'Cedar files or directories of the candidate (default policies; not with --stored)')
    .description('replay recent recorded decisions against a candidate and list every decision it would flip (changes nothing)')
    .addOption(new Option('--stored <version>', 'replay against a stored version instead of files').argParser(versionArg))
    .option(...appSchemaOption)
    .option('--since <time>', 'only decisions made at or after this time (ISO 8601)')
    .addOption(new Option('--limit <n>', 'how many recent decisions to replay (default 1000)').argParser(integerIn('--limit', 1, 5000)))
    .option('--fail-on-flip', 'exit 1 when any decision would flip (for CI)')
    .addHelpText('after', examples('custos policy impact policies/', 'custos policy impact --stored 9 --since 2026-01-01T00:00:00Z', 'custos policy impact policies/ --fail-on-flip'))
    .action(withClient(io, async (client, g, paths: string[], o: { stored?: number; appSchema?: string; since?: string; limit?: number; failOnFlip?: boolean }) => {
      if (o.stored !== undefined && paths.length) throw new CliError('give either paths or --stored, not both', 2);
      if (o.stored !== undefined && o.appSchema !== undefined) throw new CliError('--app-schema is for files: a stored version has its own', 2);
      const body = defined({ since: o.since, limit: o.limit });
      let r: Impact;
      if (o.stored !== undefined) r = await client.request<Impact>('POST', `/v1/policies/${o.stored}/impact`, body);
      else {
        const m = await offline();
        const appSchema = readAppSchema(m, o.appSchema);
        const policies = await readPolicies(m, paths.length ? paths : ['policies'], appSchema);
        if (policies.problems.length) reportProblems(io, g, m, policies.problems, policies.files, appSchema !== undefined);
        r = await client.request<Impact>('POST', '/v1/policies/impact', { policies: policies.text, ...defined({ app_schema: appSchema?.text }), ...body });
      }
      if (g.json) printJson(io, r);
      else {
        printTable(io, ['TIME', 'PRINCIPAL', 'ACTION', 'RESOURCE', 'NOW', 'CANDIDATE', 'CANDIDATE REASONS'], r.flips.map((f) => [
          f.time.slice(0, 19), f.principal_name ?? f.principal, f.action, f.resource, f.before, f.after, f.reasons_after.join(', '),
        ]));
        const skipped = r.skipped ? ` (${r.skipped} skipped: explanations with simulated facts, or no request recorded)` : '';
        io.stdout.write(`replayed ${plural(r.replayed, 'decision')}${skipped}; ${r.flips.length} would flip\n`);
      }
      if (o.failOnFlip && r.flips.length) throw new CliError(`${plural(r.flips.length, 'decision')} would flip (--fail-on-flip)`, 1);
    }));
}
