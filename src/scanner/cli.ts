// `custos scan …`: parses its own arguments, never exits the process, returns the exit code.
import { access, chmod, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { availableParallelism } from 'node:os';
import { Command, CommanderError, Option } from 'commander';
import { makeBaseline, parseBaseline } from './baseline.js';
import { createFilters } from './filters.js';
import { createSecretHasher } from './finding.js';
import { loadScanKey, ScanKeyError } from './scan-key.js';
import type { ScanConfig } from './config.js';
import { emptyScanConfig, limitsOf, tuningOf } from './config-apply.js';
import { renderJson } from './report/json.js';
import { renderSarif } from './report/sarif.js';
import { RULES } from './rules/rules.js';
import { scanContainerImage, scanDirectory, scanGitHistory, type ScanOptions } from './scan.service.js';
import { NotAGitRepository } from './sources/git.js';
import { NotAnImage } from './sources/image.js';
import { SEVERITIES, type ScanResult, type Severity } from './types.js';

export const EXIT = { clean: 0, findings: 1, usage: 2, incomplete: 3, error: 4 } as const;

export interface ReportOptions {
  server?: string;
  token?: string;
  publicRepo: boolean;
  pushedImage: boolean;
}

export interface ScanIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdoutIsTTY: boolean;
  /** Environment (scan key location); default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Sends the result to a Custos server (`--report`); supplied by the `custos` CLI. Returns a one-line summary. */
  report?: (result: ScanResult, opts: ReportOptions) => Promise<string>;
}

interface Opts {
  format?: 'table' | 'json' | 'sarif';
  output?: string;
  failOn: Severity;
  config?: string;
  baseline?: string;
  writeBaseline?: string;
  gitignore?: boolean;
  progress?: boolean;
  workers?: string;
  timeout?: string;
  report?: boolean;
  server?: string;
  token?: string;
  publicRepo?: boolean;
  pushedImage?: boolean;
  keyFile?: string;
}

class UsageError extends Error {}

const CONFIG_NAMES = ['.custos-scan.yaml', '.custos-scan.yml', '.custos-scan.json'];

/** The config parser (zod, yaml) is loaded only when there is a config file to parse. */
async function findConfig(explicit?: string): Promise<ScanConfig> {
  if (explicit) return (await import('./config.js')).loadScanConfig(explicit);
  for (const n of CONFIG_NAMES) {
    const p = path.resolve(n);
    if (await access(p).then(() => true, () => false)) return (await import('./config.js')).loadScanConfig(p);
  }
  return emptyScanConfig();
}

function pickFormat(o: Opts, io: ScanIo): 'table' | 'json' | 'sarif' {
  if (o.format) return o.format;
  if (o.output) {
    if (/\.sarif(\.json)?$/i.test(o.output)) return 'sarif';
    if (/\.json$/i.test(o.output)) return 'json';
    return 'table';
  }
  return io.stdoutIsTTY ? 'table' : 'json';
}

function progressReporter(io: ScanIo) {
  const tty = (io.stderr as NodeJS.WriteStream).isTTY === true;
  if (!tty) return { onProgress: undefined, done: () => {} };
  const start = Date.now();
  let last = 0;
  let shown = false;
  const frames = ['|', '/', '-', '\\'];
  return {
    onProgress: (bytes: number, files: number) => {
      const now = Date.now();
      if (now - start < 1000 || now - last < 100) return; // only long scans, at most 10 updates a second
      last = now;
      shown = true;
      const mbs = bytes / 1e6 / ((now - start) / 1000);
      io.stderr.write(`\r${frames[Math.floor(now / 100) % 4]} scanning: ${files} files, ${(bytes / 1e6).toFixed(1)} MB, ${mbs.toFixed(0)} MB/s   `);
    },
    done: () => { if (shown) io.stderr.write('\r\x1b[2K'); },
  };
}

/** Worker threads by default only when running compiled (a .ts worker needs a loader such as tsx). */
function defaultWorkers(): number {
  return import.meta.url.endsWith('.js') ? Math.min(availableParallelism(), 8) : 0;
}

async function run(kind: 'dir' | 'git' | 'image', target: string, o: Opts, io: ScanIo): Promise<number> {
  let cfg: ScanConfig;
  try {
    cfg = await findConfig(o.config);
  } catch (err) {
    throw new UsageError(`invalid scan config: ${(await import('./config.js')).configErrorMessage(err)}`);
  }
  const known = new Set(RULES.map((r) => r.id));
  const unknown = [...cfg.rules.disable, ...Object.keys(cfg.rules.severity)].filter((id) => !known.has(id));
  if (unknown.length) throw new UsageError(`unknown rule id in config: ${unknown.join(', ')}`);
  if (!(await stat(target).then(() => true, () => false))) throw new UsageError(`no such file or directory: ${target}`);
  let key: Buffer;
  try {
    key = await loadScanKey(io.env ?? process.env, o.keyFile);
  } catch (err) {
    if (err instanceof ScanKeyError) throw new UsageError(err.message);
    throw err;
  }
  const keyId = createSecretHasher(key).keyId;
  let accepted = new Set<string>();
  if (o.baseline) {
    try {
      accepted = parseBaseline(await readFile(o.baseline, 'utf8'), keyId);
    } catch (err) {
      throw new UsageError(`cannot read baseline ${o.baseline}: ${(err as Error).message}`);
    }
  }

  const progress = progressReporter(io);
  const workers = o.workers === undefined ? defaultWorkers() : Number(o.workers);
  if (!Number.isInteger(workers) || workers < 0 || workers > 64) throw new UsageError(`--workers must be an integer from 0 to 64`);
  const timeout = o.timeout === undefined ? undefined : Number(o.timeout);
  if (timeout !== undefined && !(Number.isFinite(timeout) && timeout > 0)) throw new UsageError('--timeout must be a positive number of seconds');
  const filters = createFilters({ allow: cfg.allow, baseline: accepted, failOn: o.failOn });
  const opts: ScanOptions = {
    workers, filters, key,
    tuning: tuningOf(cfg), limits: { ...limitsOf(cfg), ...(timeout ? { maxSeconds: timeout } : {}) }, exclude: cfg.exclude, gitignore: o.gitignore !== false,
    ...(progress.onProgress && o.progress !== false ? { onProgress: progress.onProgress } : {}),
  };
  let result: ScanResult;
  try {
    result = kind === 'dir' ? await scanDirectory(target, opts) : kind === 'git' ? await scanGitHistory(target, opts) : await scanContainerImage(target, opts);
  } catch (err) {
    if (err instanceof NotAGitRepository || err instanceof NotAnImage) throw new UsageError(err.message);
    throw err;
  } finally {
    progress.done();
  }

  if (o.writeBaseline) {
    // Every current finding, those the old baseline accepted included.
    const all = [...result.findings, ...filters.baselined()];
    await writeFile(o.writeBaseline, JSON.stringify(makeBaseline(all, keyId), null, 2) + '\n');
    io.stderr.write(`wrote baseline of ${all.length} finding(s) to ${o.writeBaseline}\n`);
  }

  const format = pickFormat(o, io);
  // cli-table3 is loaded only for table output.
  const text = format === 'sarif' ? renderSarif(result, RULES) : format === 'json' ? renderJson(result) : (await import('./report/table.js')).renderTable(result);
  if (o.output) {
    // Reports name where secrets are: created 0600, like every file the CLI writes with --output.
    await writeFile(o.output, text, { mode: 0o600 });
    await chmod(o.output, 0o600);
    io.stderr.write(`wrote the ${format} report (${result.findings.length} finding(s)) to ${o.output}\n`);
  } else io.stdout.write(text);
  if (o.output && result.incomplete) io.stderr.write(`scan incomplete: ${result.incompleteReasons.length} limit(s) reached, see ${o.output}\n`);

  if (o.report) {
    if (!io.report) throw new UsageError('--report needs the custos CLI (a server to report to)');
    try {
      io.stderr.write(`${await io.report(result, { server: o.server, token: o.token, publicRepo: Boolean(o.publicRepo), pushedImage: Boolean(o.pushedImage) })}\n`);
    } catch (err) {
      io.stderr.write(`error: report failed: ${(err as Error).message.split('\n')[0]}\n`);
      return EXIT.error;
    }
  }

  if (o.writeBaseline) return result.incomplete ? EXIT.incomplete : EXIT.clean;
  if (result.failing > 0) return EXIT.findings;
  return result.incomplete ? EXIT.incomplete : EXIT.clean;
}

export async function runScanCli(argv: string[], io: ScanIo): Promise<number> {
  let code: number = EXIT.clean;
  const program = new Command('custos scan')
    .description('find leaked credentials in directories, git history and container images')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(s.split('\n')[0] + '\n'),
    });

  const common = (cmd: Command) => cmd
    .addOption(new Option('--format <format>', 'table (default on a terminal), json or sarif').choices(['table', 'json', 'sarif']))
    .option('--output <file>', 'write the report to a file instead of stdout')
    .addOption(new Option('--fail-on <severity>', 'exit 1 when a finding is at or above this severity').choices([...SEVERITIES]).default('low'))
    .option('--config <file>', 'scan config (YAML or JSON); default .custos-scan.yaml in the current directory')
    .option('--baseline <file>', 'ignore findings whose fingerprints are in this baseline')
    .option('--write-baseline <file>', 'write every current finding to a baseline file')
    .option('--key-file <file>', 'scan key (HMAC of fingerprints and shown hashes); default $CUSTOS_SCAN_KEY_FILE or ~/.config/custos/scan-key, created on first use')
    .option('--timeout <seconds>', 'stop after this many seconds; the result is then incomplete (exit 3 unless findings)')
    .option('--no-progress', 'no progress line on stderr')
    .option('--report', 'store the findings in the Custos server (no secret is sent); live leaked Custos credentials are revoked')
    .option('--server <url>', 'with --report: control plane URL (env CUSTOS_SERVER)')
    .option('--token <token>', 'with --report: operator token (env CUSTOS_TOKEN)')
    .option('--public-repo', 'with --report: the scanned code is publicly readable (raises priority)')
    .option('--pushed-image', 'with --report: the image was pushed to a registry (raises priority)')
    .exitOverride();

  const action = (kind: 'dir' | 'git' | 'image') => async (target: string, o: Opts) => {
    code = await run(kind, target, o, io);
  };
  const examples = (...lines: string[]) => `\nExamples:\n${lines.map((l) => `  ${l}`).join('\n')}\n`;
  common(program.command('dir').argument('<path>', 'directory to scan').description('scan a directory tree')
    .addHelpText('after', examples('custos scan dir .', 'custos scan dir ./repo --format sarif --output custos.sarif --fail-on high', 'custos scan dir . --report --public-repo'))
    .option('--no-gitignore', 'also scan files that .gitignore excludes')
    .option('--workers <n>', 'threads that scan files: this one and n-1 worker threads (default: CPU count when compiled; 0 or 1 = this thread only)')).action(action('dir'));
  common(program.command('git').argument('<path>', 'repository').description('scan every commit on every ref (added lines)')
    .addHelpText('after', examples('custos scan git ./repo', 'custos scan git ./repo --baseline .custos-baseline.json --fail-on medium'))).action(action('git'));
  common(program.command('image').argument('<archive>', 'docker save tarball or OCI layout (dir or tar)').description('scan a container image, every layer')
    .addHelpText('after', examples('docker save myimage:latest -o image.tar && custos scan image image.tar', 'custos scan image ./oci-layout --report --pushed-image'))).action(action('image'));

  try {
    if (argv.length === 0) throw new UsageError('missing command: dir, git or image (see custos scan --help)');
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT.clean;
      return EXIT.usage;
    }
    if (err instanceof UsageError) {
      io.stderr.write(`error: ${err.message}\n`);
      return EXIT.usage;
    }
    io.stderr.write(`error: scan failed: ${(err as Error).message.split('\n')[0]}\n`);
    return EXIT.error;
  }
}
