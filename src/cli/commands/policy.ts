import fs from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import type { Activated, CaseResult, FileProblem, Impact, SourceFile, VersionSummary, VersionView } from '../../authz/policies/index.js';
import { CliError } from '../client.js';
import { defined, examples, fetchPages, integerIn, pageOptions, withClient } from '../common.js';
import { printJson, printRecord, printTable, sanitizeCell, type CliIo } from '../output.js';

// `custos policy …`: policy as code. validate, test and diff work offline on the files of a policy repository
// (policies/*.cedar, tests/*.yaml, entities.yaml; docs/policies.md), so CI can check them without a server; apply,
// activate, rollback, history, show and impact talk to the server. The offline commands load Cedar only when run
// (a dynamic import), so the other commands start as fast as before.
//
// Exit codes: 0 ok; 1 problems found, tests failed, or the server refused; 2 bad input (a path that does not
// exist, a directory without .cedar files, --activate without --reason).

const CEDAR = ['.cedar'];
const YAML = ['.yaml', '.yml', '.json'];

const offline = () => import('../../authz/policies/index.js');

/** The files a list of paths names: files as given, directories by extension (sorted, not recursive). */
function collect(paths: string[], exts: string[], what: string, required = true): SourceFile[] {
  const files: string[] = [];
  for (const p of paths) {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(p);
    } catch {
      throw new CliError(`${p}: no such file or directory`, 2);
    }
    if (stat.isDirectory()) {
      const inDir = fs.readdirSync(p).filter((f) => exts.includes(path.extname(f))).sort().map((f) => path.join(p, f));
      if (inDir.length === 0 && required) throw new CliError(`${p}: no ${what} files (${exts.join(', ')}) in this directory`, 2);
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

function reportProblems(io: CliIo, problems: FileProblem[], fileProblemLine: (p: FileProblem) => string, what: string): never {
  for (const p of problems) io.stdout.write(`${sanitizeCell(fileProblemLine(p))}\n`);
  const files = new Set(problems.map((p) => p.file)).size;
  throw new CliError(`${problems.length} problem${problems.length === 1 ? '' : 's'} in ${files} ${what} file${files === 1 ? '' : 's'}`, 1);
}

/** The application schema file (--app-schema), when given. */
function readAppSchema(file: string | undefined): SourceFile | undefined {
  return file === undefined ? undefined : collect([file], ['.cedarschema'], 'schema')[0];
}

/** Reads and checks the Cedar files; returns the combined text and the policy ids. */
async function readPolicies(io: CliIo, paths: string[], appSchema?: SourceFile): Promise<{ files: SourceFile[]; text: string; ids: string[] }> {
  const m = await offline();
  const files = collect(paths, CEDAR, 'Cedar');
  const { problems, ids } = m.checkPolicyFiles(files, appSchema);
  if (problems.length) reportProblems(io, problems, m.fileProblemLine, 'policy');
  return { files, text: m.combinePolicyFiles(files), ids };
}

const appSchemaOption = ['--app-schema <file>', 'a Cedar schema fragment (namespace App) declaring an application\'s own actions'] as const;

function printResults(io: CliIo, results: CaseResult[]): void {
  printTable(io, ['RESULT', 'CASE', 'EXPECT', 'GOT', 'REASONS'], results.map((r) => [r.passed ? 'pass' : 'FAIL', r.name, r.expect, r.got, r.reasons.join(', ')]));
}

const versionArg = integerIn('version', 1, 2_147_483_647);

function activatedLine(a: Activated): string {
  const t = a.test_report;
  return `version ${a.active.version} is active${a.previous !== null ? ` (was ${a.previous})` : ''}; tests: ${t.passed} passed, ${t.failed} failed\n`;
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
      const { files, ids } = await readPolicies(io, paths, readAppSchema(o.appSchema));
      if (cmd.optsWithGlobals().json) printJson(io, { files: files.map((f) => f.path), policies: ids });
      else io.stdout.write(`ok: ${files.length} file${files.length === 1 ? '' : 's'}, ${ids.length} polic${ids.length === 1 ? 'y' : 'ies'} (${ids.join(', ')})\n`);
    });

  policy.command('test')
    .description('run test cases against Cedar files offline (guardrails included, entities from a file; no server)')
    .option('--policies <paths...>', 'Cedar files or directories', ['policies'])
    .option('--tests <paths...>', 'test case files (YAML) or directories', ['tests'])
    .option('--entities <file>', 'teams, principals and resources the cases name (YAML or JSON); default entities.yaml when it exists')
    .option(...appSchemaOption)
    .addHelpText('after', examples('custos policy test', 'custos policy test --policies policies --tests tests/models.yaml --entities fixtures/entities.yaml'))
    .action(async (o: { policies: string[]; tests: string[]; entities?: string; appSchema?: string }, cmd: Command) => {
      const m = await offline();
      const appSchema = readAppSchema(o.appSchema);
      const { text } = await readPolicies(io, o.policies, appSchema);
      const testFiles = collect(o.tests, YAML, 'test');
      const { cases, problems } = m.readTestFiles(testFiles, appSchema);
      if (problems.length) reportProblems(io, problems, m.fileProblemLine, 'test');
      const entitiesFile = o.entities ?? (fs.existsSync('entities.yaml') ? 'entities.yaml' : undefined);
      let entities;
      try {
        entities = m.parseEntitiesFile(entitiesFile ? collect([entitiesFile], YAML, 'entities')[0]!.text : '{}');
      } catch (error) {
        if (error instanceof Error && 'problems' in error) reportProblems(io, (error as { problems: FileProblem[] }).problems.map((p) => ({ ...p, file: entitiesFile ?? 'entities' })), m.fileProblemLine, 'entities');
        throw error;
      }
      const results = m.runCasesOffline(text, cases, entities, m.knownActions(appSchema?.text).app);
      const failed = results.filter((r) => !r.passed).length;
      if (cmd.optsWithGlobals().json) printJson(io, { passed: results.length - failed, failed, results });
      else {
        printResults(io, results);
        io.stdout.write(`${results.length - failed} passed, ${failed} failed\n`);
      }
      if (failed) throw new CliError(`${failed} of ${results.length} test case${results.length === 1 ? '' : 's'} failed`, 1);
    });

  policy.command('diff').argument('<old>', 'Cedar file or directory (before)').argument('<new>', 'Cedar file or directory (after)')
    .description('which policies were added, removed or changed, by @id (offline; layout changes are not changes)')
    .addHelpText('after', examples('custos policy diff old/policies policies', 'git show main:policies/models.cedar > /tmp/old.cedar && custos policy diff /tmp/old.cedar policies/models.cedar'))
    .action(async (before: string, after: string, _o, cmd: Command) => {
      const m = await offline();
      // Only parsed, not validated: a diff of two versions must work across schema changes.
      const a = { text: m.combinePolicyFiles(collect([before], CEDAR, 'Cedar')) };
      const b = { text: m.combinePolicyFiles(collect([after], CEDAR, 'Cedar')) };
      const d = m.diffPolicies(a.text, b.text);
      if (cmd.optsWithGlobals().json) return printJson(io, d);
      for (const id of d.added) io.stdout.write(`+ ${sanitizeCell(id)}\n`);
      for (const id of d.removed) io.stdout.write(`- ${sanitizeCell(id)}\n`);
      for (const id of d.changed) io.stdout.write(`~ ${sanitizeCell(id)}\n`);
      io.stdout.write(`${d.added.length} added, ${d.removed.length} removed, ${d.changed.length} changed, ${d.unchanged.length} unchanged\n`);
    });

  policy.command('apply').argument('[paths...]', 'Cedar files or directories', ['policies'])
    .description('create a candidate version on the server from Cedar files (checked locally first) and their tests; --activate makes it active if its tests pass')
    .option('--tests <paths...>', 'test case files (YAML) or directories, stored with the version')
    .option('--description <text>', 'what this version changes')
    .option(...appSchemaOption)
    .option('--activate', 'activate it right away (its tests must pass; the active version is unchanged otherwise)')
    .option('--reason <text>', 'why (recorded in the audit log; required with --activate)')
    .addHelpText('after', examples('custos policy apply policies/ --tests tests/ --description "agents may invoke staging models"', 'custos policy apply policies/ --tests tests/ --activate --reason "PR #42"'))
    .action(withClient(io, async (client, g, paths: string[], o: { tests?: string[]; description?: string; appSchema?: string; activate?: boolean; reason?: string }) => {
      if (o.activate && !o.reason) throw new CliError('--activate needs --reason (recorded in the audit log)', 2);
      const m = await offline();
      const appSchema = readAppSchema(o.appSchema);
      const { text } = await readPolicies(io, paths, appSchema);
      const testFiles = o.tests ? collect(o.tests, YAML, 'test') : [];
      const { cases, problems } = m.readTestFiles(testFiles, appSchema);
      if (problems.length) reportProblems(io, problems, m.fileProblemLine, 'test');
      const tests = m.combineTestFiles(testFiles, cases);
      const created = await client.request<VersionView & { test_report: { passed: number; failed: number } }>('POST', '/v1/policies', defined({ policies: text, tests, app_schema: appSchema?.text, description: o.description, reason: o.reason }));
      if (!o.activate) {
        if (g.json) return printJson(io, created);
        io.stdout.write(`created policy version ${created.version} (candidate): ${created.policy_ids.length} policies, ${created.test_count} tests (${created.test_report.passed} pass, ${created.test_report.failed} fail against the current registry)\n`);
        io.stdout.write(`activate it with: custos policy activate ${created.version} --reason "…"\n`);
        return;
      }
      const a = await client.request<Activated>('POST', `/v1/policies/${created.version}/activate`, { reason: o.reason });
      if (g.json) return printJson(io, a);
      io.stdout.write(activatedLine(a));
    }));

  policy.command('activate').argument('<version>', 'the version number', versionArg)
    .description('activate a version: validated again and its tests run; only if both pass does it replace the active one')
    .requiredOption('--reason <text>', 'why (recorded in the audit log)')
    .addHelpText('after', examples('custos policy activate 7 --reason "reviewed in PR #42"'))
    .action(withClient(io, async (client, g, version: number, o: { reason: string }) => {
      const a = await client.request<Activated>('POST', `/v1/policies/${version}/activate`, { reason: o.reason });
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

  pageOptions(policy.command('history').description('policy versions, newest first')
    .addOption(new Option('--status <status>', 'only versions in this status').choices(['candidate', 'active', 'superseded', 'rejected']))
    .addHelpText('after', examples('custos policy history --limit 10')))
    .action(withClient(io, async (client, g, o) => {
      const params = new URLSearchParams(defined({ status: o.status, limit: o.limit, cursor: o.cursor }) as Record<string, string>);
      const page = await fetchPages<VersionSummary>(client, '/v1/policies', params, Boolean(o.all));
      if (g.json) return printJson(io, page);
      printTable(io, ['VERSION', 'STATUS', 'CREATED', 'ACTIVATED', 'DESCRIPTION', 'REASON'], page.items.map((v) => [
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
      const { policies: _p, tests: _t, ...rest } = v;
      printRecord(io, rest);
    }));

  policy.command('impact').argument('[paths...]', 'Cedar files or directories of the candidate (or --stored)', ['policies'])
    .description('replay recent recorded decisions against a candidate and list every decision it would flip (changes nothing)')
    .addOption(new Option('--stored <version>', 'replay against a stored version instead of files').argParser(versionArg))
    .option(...appSchemaOption)
    .option('--since <time>', 'only decisions made at or after this time (ISO 8601)')
    .addOption(new Option('--limit <n>', 'how many recent decisions to replay (default 1000)').argParser(integerIn('--limit', 1, 5000)))
    .addHelpText('after', examples('custos policy impact policies/', 'custos policy impact --stored 9 --since 2026-01-01T00:00:00Z'))
    .action(withClient(io, async (client, g, paths: string[], o: { stored?: number; appSchema?: string; since?: string; limit?: number }) => {
      const body = defined({ since: o.since, limit: o.limit });
      const appSchema = o.stored === undefined ? readAppSchema(o.appSchema) : undefined;
      const r = o.stored !== undefined
        ? await client.request<Impact>('POST', `/v1/policies/${o.stored}/impact`, body)
        : await client.request<Impact>('POST', '/v1/policies/impact', { policies: (await readPolicies(io, paths, appSchema)).text, ...defined({ app_schema: appSchema?.text }), ...body });
      if (g.json) return printJson(io, r);
      printTable(io, ['TIME', 'PRINCIPAL', 'ACTION', 'RESOURCE', 'NOW', 'CANDIDATE', 'CANDIDATE REASONS'], r.flips.map((f) => [
        f.time.slice(0, 19), f.principal, f.action, f.resource, f.before, f.after, f.reasons_after.join(', '),
      ]));
      io.stdout.write(`replayed ${r.replayed} decision${r.replayed === 1 ? '' : 's'}${r.skipped ? ` (${r.skipped} skipped: recorded without their request)` : ''}; ${r.flips.length} would flip\n`);
    }));
}
