import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

// Starts the control plane the way a user does (`node bin/custos.js serve`) as a separate process on
// loopback, and reads its memory from /proc. Every process started here is killed when the bench exits.

const live = new Set<ChildProcess>();
const liveDirs = new Set<string>();
const liveDatabases = new Map<string, () => Promise<void>>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
  for (const dir of liveDirs) fs.rmSync(dir, { recursive: true, force: true });
});
// Interrupted (Ctrl-C, SIGTERM): stop the servers, drop the databases and temp dirs, then exit.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const child of live) child.kill('SIGKILL');
    const timer = setTimeout(() => process.exit(130), 10_000);
    void Promise.allSettled([...liveDatabases.values()].map((drop) => drop())).then(() => {
      clearTimeout(timer);
      process.exit(130);
    });
  });
}

export interface ServerOptions {
  repoRoot: string;
  databaseUrl?: string;
  logLevel: string;
  /** Extra node flags for the server process, e.g. --cpu-prof. */
  nodeArgs?: string[];
  /** Where the server's stdout (its request log) goes; /dev/null unless profiling. */
  logFile?: string;
  /** Keep the data dir when the server stops (to restart on the same store). */
  keepDataDir?: boolean;
  /** Start on an existing bench data dir instead of a fresh one. */
  reuseDataDir?: string;
}

export interface RunningServer {
  url: string;
  pid: number;
  token: string;
  dataDir: string;
  stop(): Promise<void>;
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const dataDir = opts.reuseDataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'custos-bench-'));
  const args = [
    ...(opts.nodeArgs ?? []),
    path.join(opts.repoRoot, 'bin', 'custos.js'), 'serve',
    '--data-dir', path.join(dataDir, 'data'),
    '--host', '127.0.0.1', '--port', '0',
    '--log-level', opts.logLevel,
    ...(opts.databaseUrl ? ['--database-url', opts.databaseUrl] : []),
  ];
  const out = opts.logFile ? fs.openSync(opts.logFile, 'w') : 'ignore';
  const child = spawn(process.execPath, args, {
    cwd: dataDir,
    stdio: ['ignore', out, 'pipe'],
    // The flags above are the whole configuration: no CUSTOS_* variable from the caller leaks in.
    env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CUSTOS_'))),
  });
  if (typeof out === 'number') fs.closeSync(out);
  live.add(child);
  liveDirs.add(dataDir);

  const url = await waitForListening(child, 'server');
  // Keep draining stderr so the server never blocks on a full pipe; keep its tail to explain a crash.
  let tail = '';
  child.stderr!.on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-4000);
  });
  let stopping = false;
  child.once('exit', (code, signal) => {
    if (!stopping) process.stderr.write(`\nserver ${child.pid} exited unexpectedly (code ${code}, signal ${signal}):\n${tail}\n`);
  });

  const token = fs.readFileSync(path.join(dataDir, 'data', 'bootstrap-admin.token'), 'utf8').trim();
  return {
    url,
    pid: child.pid!,
    token,
    dataDir,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        stopping = true;
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(timer);
      }
      live.delete(child);
      liveDirs.delete(dataDir);
      if (!opts.keepDataDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Resident set size of a process in MiB, from /proc/<pid>/status (VmRSS). */
export function rssMiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]) / 1024;
}

/** A fresh, empty PostgreSQL database for one run, and a function that drops it. */
export async function freshPostgres(adminUrl: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `custos_bench_${crypto.randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const drop = async () => {
    liveDatabases.delete(name);
    const c = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 5000 });
    await c.connect();
    try {
      await c.query(`drop database if exists ${name} with (force)`);
    } finally {
      await c.end();
    }
  };
  liveDatabases.set(name, drop);
  return { url: url.toString(), drop };
}

let clockTicks: number | undefined;
/** CPU seconds (user + system) a process has used so far, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  if (clockTicks === undefined) {
    const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    clockTicks = Number(r.stdout.trim()) || 100;
  }
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the ")" that closes the command name: utime and stime are fields 14 and 15 of the line.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / clockTicks;
}

/** Runs one statement on a database and returns the rows (e.g. ANALYZE, or SHOW autovacuum). */
export async function postgresQuery(url: string, statement: string): Promise<Array<Record<string, unknown>>> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await c.connect();
  try {
    return (await c.query(statement)).rows as Array<Record<string, unknown>>;
  } finally {
    await c.end();
  }
}

/** The URL a spawned server prints on stderr once it listens ("listening on http://127.0.0.1:PORT"); it is killed
 * when it exits first or stays silent for 30 s. */
export function waitForListening(child: ChildProcess, what: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let stderr = '';
    const timer = setTimeout(() => fail(new Error(`${what} did not start within 30 s`)), 30_000);
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${error.message}\n${stderr}`));
    };
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (chunk: string) => {
      stderr += chunk;
      const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', (code) => fail(new Error(`${what} exited with code ${code} before listening`)));
  });
}
