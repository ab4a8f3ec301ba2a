import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';

// Where `custos login` keeps a person's sessions: one JSON file, keyed by server URL, so one machine can be signed
// in to several control planes. It holds refresh tokens, which are as good as the person's sign-in until the session
// ends, so the rules are strict:
//
// - Location: $CUSTOS_CONFIG_DIR (tests, unusual setups), else $XDG_CONFIG_HOME/custos, else ~/.config/custos — one
//   rule on every platform (macOS included), so the file is where the documentation says it is.
// - The directory is created 0700 and the file 0600. Every write goes to a fresh temporary file (created exclusively,
//   0600) in the same directory, is flushed, then renamed over the old file: a reader sees the old file or the new
//   one, never half of either, and a crash leaves at most a stray temporary file.
// - Reading refuses (never just warns) a file that is not a regular file, is owned by another user, or is readable or
//   writable by group or others, and a directory others may write to (they could swap the file): the tokens in it
//   must be treated as exposed, and silently using them would hide that. The error says how to fix it. Not checked on
//   Windows, where POSIX modes mean nothing.
// - A file that is not the shape below is refused with one line naming the file; nothing is guessed from it.
// - Read-modify-write (login, logout, a refresh that rotates the refresh token) happens under a lock file beside it
//   (created exclusively; a lock whose process is gone, or older than LOCK_STALE_MS, is taken over). Custos rotates
//   refresh tokens and ends the whole session when a rotated one is presented again, so two `custos` processes
//   refreshing at once with the same token would sign the person out: the lock makes the second one wait and then
//   use the first one's result.
//
// Errors are SessionFileError (the CLI maps them to exit 3: no usable credentials); this file does no networking.

export const SESSIONS_FILE = 'sessions.json';
const LOCK_FILE = 'sessions.json.lock';
export const LOCK_STALE_MS = 60_000;
const LOCK_WAIT_MS = 30_000;

export class SessionFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SessionFileError';
  }
}

const sessionSchema = z.object({
  server: z.url({ protocol: /^https?$/ }),
  client_id: z.string().min(1),
  access_token: z.string().min(1),
  refresh_token: z.string().min(1).nullable(),
  expires_at: z.iso.datetime(),
  signed_in_at: z.iso.datetime(),
  method: z.enum(['browser', 'device']),
});
export type StoredSession = z.infer<typeof sessionSchema>;

const fileSchema = z.object({ version: z.literal(1), sessions: z.record(z.string(), sessionSchema) });
type SessionsFile = z.infer<typeof fileSchema>;

/** The directory the session file lives in (see the rules above). */
export function configDir(env: NodeJS.ProcessEnv): string {
  if (env.CUSTOS_CONFIG_DIR) return path.resolve(env.CUSTOS_CONFIG_DIR);
  if (env.XDG_CONFIG_HOME && path.isAbsolute(env.XDG_CONFIG_HOME)) return path.join(env.XDG_CONFIG_HOME, 'custos');
  return path.join(env.HOME || os.homedir(), '.config', 'custos');
}

/** The key a server's session is stored under: its URL normalised (scheme and host lower case, no trailing slash). */
export function sessionKey(server: string): string {
  return new URL(server).href.replace(/\/+$/, '');
}

const POSIX = process.platform !== 'win32';
const mode = (st: fs.Stats) => (st.mode & 0o777).toString(8).padStart(4, '0');

function checkDir(dir: string): void {
  if (!POSIX) return;
  const st = fs.statSync(dir);
  if (!st.isDirectory()) throw new SessionFileError(`${dir} is not a directory; it must hold the session file`);
  if (st.mode & 0o022) throw new SessionFileError(`${dir} may be written by others (mode ${mode(st)}), who could replace your sessions; run: chmod 700 ${dir}`);
}

function checkFile(file: string, st: fs.Stats): void {
  if (!st.isFile()) throw new SessionFileError(`${file} is not a regular file; remove it and run custos login again`);
  if (!POSIX) return;
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) throw new SessionFileError(`${file} belongs to another user (uid ${st.uid}); remove it and run custos login again`);
  if (st.mode & 0o077) {
    throw new SessionFileError(`${file} is readable or writable by others (mode ${mode(st)}); its tokens may have been seen: chmod 600 ${file}, then custos logout (revokes that session), then custos login`);
  }
}

function readFile(dir: string): SessionsFile {
  const file = path.join(dir, SESSIONS_FILE);
  let st: fs.Stats;
  try {
    st = fs.lstatSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, sessions: {} };
    throw new SessionFileError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  checkDir(dir);
  checkFile(file, st);
  let json: unknown;
  try {
    json = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    if (error instanceof SyntaxError) throw new SessionFileError(`${file} is not valid JSON; remove it and run custos login again`);
    throw new SessionFileError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? ` at ${issue.path.join('.')}` : '';
    throw new SessionFileError(`${file} is not a Custos session file (${issue?.message ?? 'unexpected shape'}${where}); remove it and run custos login again`);
  }
  return parsed.data;
}

function ensureDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  checkDir(dir);
}

function writeFile(dir: string, data: SessionsFile): void {
  ensureDir(dir);
  const file = path.join(dir, SESSIONS_FILE);
  const tmp = path.join(dir, `.${SESSIONS_FILE}.${process.pid}.${crypto.randomBytes(6).toString('hex')}.tmp`);
  const fd = fs.openSync(tmp, 'wx', 0o600);
  try {
    fs.writeSync(fd, `${JSON.stringify(data, null, 2)}\n`);
    fs.fsyncSync(fd);
  } catch (error) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw error;
  }
  fs.closeSync(fd);
  try {
    fs.renameSync(tmp, file);
  } catch (error) {
    fs.rmSync(tmp, { force: true });
    throw error;
  }
}

/** Every stored session, by server key. */
export function readSessions(env: NodeJS.ProcessEnv): Record<string, StoredSession> {
  return readFile(configDir(env)).sessions;
}

/** The stored session for this server, if any. */
export function findSession(env: NodeJS.ProcessEnv, server: string): StoredSession | undefined {
  return readSessions(env)[sessionKey(server)];
}

export function sessionFilePath(env: NodeJS.ProcessEnv): string {
  return path.join(configDir(env), SESSIONS_FILE);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function lockIsStale(lock: string): boolean {
  let text: string;
  let st: fs.Stats;
  try {
    st = fs.statSync(lock);
    text = fs.readFileSync(lock, 'utf8');
  } catch {
    return false; // gone already: the next attempt takes it
  }
  if (Date.now() - st.mtimeMs > LOCK_STALE_MS) return true;
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Runs `fn` while holding the session file's lock (see the rules above). Waits for another holder up to 30 s, then
 * fails; takes over a lock left by a process that is gone or that is older than LOCK_STALE_MS.
 */
export async function withSessionLock<T>(env: NodeJS.ProcessEnv, fn: () => Promise<T>): Promise<T> {
  const dir = configDir(env);
  ensureDir(dir);
  const lock = path.join(dir, LOCK_FILE);
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      const fd = fs.openSync(lock, 'wx', 0o600);
      fs.writeSync(fd, `${process.pid}\n`);
      fs.closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new SessionFileError(`cannot lock ${lock}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    if (lockIsStale(lock)) {
      fs.rmSync(lock, { force: true });
      continue;
    }
    if (Date.now() > deadline) throw new SessionFileError(`another custos process has held ${lock} for too long; try again (or remove the file if no custos is running)`);
    await sleep(50);
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

/** Stores (or replaces) the session for its server. Call inside withSessionLock. */
export function saveSession(env: NodeJS.ProcessEnv, session: StoredSession): void {
  const parsed = sessionSchema.parse(session);
  const dir = configDir(env);
  const data = readFile(dir);
  data.sessions[sessionKey(parsed.server)] = parsed;
  writeFile(dir, data);
}

/** Removes the session for this server; true when there was one. Call inside withSessionLock. */
export function removeSession(env: NodeJS.ProcessEnv, server: string): boolean {
  const dir = configDir(env);
  const data = readFile(dir);
  const key = sessionKey(server);
  if (!(key in data.sessions)) return false;
  delete data.sessions[key];
  writeFile(dir, data);
  return true;
}
