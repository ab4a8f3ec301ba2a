// Processes of the gateway bench (upstream, nginx, Portkey, Custos): spawned on loopback ports picked here, tracked, and
// killed when the bench exits, also on Ctrl-C or an error. Ready means "answers HTTP" (or prints its URL), within 30 s.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { request } from 'undici';

const live = new Set<ChildProcess>();
const liveDirs = new Set<string>();
/** Kills a child's whole process group (nginx's workers outlive a killed master otherwise). */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    if (child.pid) process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}

process.on('exit', () => {
  for (const child of live) killGroup(child, 'SIGKILL');
  for (const dir of liveDirs) fs.rmSync(dir, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const child of live) killGroup(child, 'SIGKILL');
    // bench/registry/server.ts (imported for freshPostgres) drops its databases and exits; exit here if it is not loaded.
    setTimeout(() => process.exit(130), 12_000).unref();
  });
}

/** A free TCP port on 127.0.0.1 (the kernel's pick; released at once, so a peer can bind it next). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** A temp dir removed at exit (or by the caller). */
export function trackDir(dir: string): string {
  liveDirs.add(dir);
  return dir;
}

export interface Proc {
  child: ChildProcess;
  pid: number;
  /** The last 4 kB it printed on stderr (and stdout when piped), to explain a failure. */
  tail(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export function start(what: string, command: string, args: string[], opts: SpawnOptions = {}): Proc {
  // Its own process group, so that stopping it stops whatever it forked too.
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'], ...opts, detached: true });
  live.add(child);
  let tail = '';
  const keep = (chunk: Buffer | string) => { tail = (tail + chunk.toString()).slice(-4000); };
  child.stderr?.on('data', keep);
  child.stdout?.on('data', keep);
  let stopping = false;
  child.once('exit', (code, signal) => {
    live.delete(child);
    killGroup(child, 'SIGKILL');
    if (!stopping) process.stderr.write(`\n${what} (pid ${child.pid}) exited unexpectedly (code ${code}, signal ${signal}):\n${tail}\n`);
  });
  child.once('error', (error) => process.stderr.write(`\n${what}: ${error.message}\n`));
  return {
    child,
    pid: child.pid ?? -1,
    tail: () => tail,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      stopping = true;
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill(signal);
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Resolves with the first match of `re` in what the process prints on stderr; rejects if it exits first or 30 s pass. */
export function waitForOutput(proc: Proc, re: RegExp, what: string): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => done(new Error(`${what} did not start within 30 s`)), 30_000);
    const onData = (chunk: Buffer | string) => {
      seen += chunk.toString();
      const m = re.exec(seen);
      if (m) done(null, m);
    };
    const onExit = (code: number | null) => done(new Error(`${what} exited (${code}) before it was ready`));
    function done(error: Error | null, m?: RegExpExecArray) {
      clearTimeout(timer);
      proc.child.stderr?.off('data', onData);
      proc.child.off('exit', onExit);
      if (error) reject(new Error(`${error.message}\n${proc.tail()}`));
      else resolve(m!);
    }
    proc.child.stderr?.on('data', onData);
    proc.child.once('exit', onExit);
  });
}

/** Polls `url` until it answers any HTTP status; fails if the process exits first or 30 s pass. */
export async function waitForHttp(proc: Proc, url: string, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) throw new Error(`${what} exited before it answered at ${url}\n${proc.tail()}`);
    try {
      const res = await request(url, { headersTimeout: 2000, bodyTimeout: 2000 });
      await res.body.dump();
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`${what} did not answer at ${url} within 30 s\n${proc.tail()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
