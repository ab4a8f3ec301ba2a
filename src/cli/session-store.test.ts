import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  configDir, findSession, readSessions, removeSession, saveSession, SESSIONS_FILE, SessionFileError, sessionKey, withSessionLock, type StoredSession,
} from './session-store.js';

let root: string;
let env: NodeJS.ProcessEnv;
const file = () => path.join(root, 'custos', SESSIONS_FILE);
const modeOf = (p: string) => fs.statSync(p).mode & 0o777;

const session = (server: string, refresh = 'custos_rt_one'): StoredSession => ({
  server, client_id: 'custos-cli', access_token: 'eyJ.a.b', refresh_token: refresh, expires_at: '2030-01-01T00:00:00.000Z',
  signed_in_at: '2029-12-31T23:00:00.000Z', method: 'browser',
});

beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-sessions-'));
  env = { CUSTOS_CONFIG_DIR: path.join(root, 'custos') };
});
afterEach(() => { fs.rmSync(root, { recursive: true, force: true }); });

describe('configDir', () => {
  it('is CUSTOS_CONFIG_DIR, else $XDG_CONFIG_HOME/custos, else ~/.config/custos', () => {
    expect(configDir({ CUSTOS_CONFIG_DIR: '/x/y', XDG_CONFIG_HOME: '/xdg', HOME: '/home/p' })).toBe('/x/y');
    expect(configDir({ XDG_CONFIG_HOME: '/xdg', HOME: '/home/p' })).toBe('/xdg/custos');
    expect(configDir({ HOME: '/home/p' })).toBe('/home/p/.config/custos');
    // A relative XDG_CONFIG_HOME is invalid by the XDG spec and ignored.
    expect(configDir({ XDG_CONFIG_HOME: 'rel', HOME: '/home/p' })).toBe('/home/p/.config/custos');
  });
});

describe('sessionKey', () => {
  it('normalises case of scheme and host and drops a trailing slash', () => {
    expect(sessionKey('HTTP://Custos.Example.com:8443/')).toBe('http://custos.example.com:8443');
    expect(sessionKey('https://c.example.com/base/')).toBe('https://c.example.com/base');
  });
});

describe('the session file', () => {
  it('starts empty, creates the directory 0700 and the file 0600', async () => {
    expect(readSessions(env)).toEqual({});
    await withSessionLock(env, async () => saveSession(env, session('http://127.0.0.1:8080')));
    expect(modeOf(path.dirname(file()))).toBe(0o700);
    expect(modeOf(file())).toBe(0o600);
    expect(findSession(env, 'http://127.0.0.1:8080/')).toEqual(session('http://127.0.0.1:8080'));
  });

  it('keeps several servers apart; removing one leaves the others', () => {
    saveSession(env, session('http://127.0.0.1:8080', 'custos_rt_a'));
    saveSession(env, session('https://custos.example.com', 'custos_rt_b'));
    saveSession(env, session('http://127.0.0.1:8080', 'custos_rt_c'));
    expect(Object.keys(readSessions(env)).sort()).toEqual(['http://127.0.0.1:8080', 'https://custos.example.com']);
    expect(findSession(env, 'http://127.0.0.1:8080')?.refresh_token).toBe('custos_rt_c');
    expect(removeSession(env, 'http://127.0.0.1:8080')).toBe(true);
    expect(removeSession(env, 'http://127.0.0.1:8080')).toBe(false);
    expect(Object.keys(readSessions(env))).toEqual(['https://custos.example.com']);
  });

  it('replaces the file by rename: a new inode, no temporary file left behind, an open reader keeps the old content', () => {
    saveSession(env, session('http://127.0.0.1:8080', 'custos_rt_old'));
    const before = fs.statSync(file()).ino;
    const reader = fs.openSync(file(), 'r');
    saveSession(env, session('http://127.0.0.1:8080', 'custos_rt_new'));
    expect(fs.statSync(file()).ino).not.toBe(before);
    expect(fs.readFileSync(reader, 'utf8')).toContain('custos_rt_old');
    fs.closeSync(reader);
    expect(fs.readdirSync(path.dirname(file()))).toEqual([SESSIONS_FILE]);
    expect(modeOf(file())).toBe(0o600);
    expect(findSession(env, 'http://127.0.0.1:8080')?.refresh_token).toBe('custos_rt_new');
  });

  it('refuses a file group or others may read, naming it and the fix', () => {
    saveSession(env, session('http://127.0.0.1:8080'));
    fs.chmodSync(file(), 0o644);
    expect(() => readSessions(env)).toThrow(SessionFileError);
    expect(() => readSessions(env)).toThrow(/readable or writable by others \(mode 0644\).*chmod 600/);
    fs.chmodSync(file(), 0o600);
    expect(Object.keys(readSessions(env))).toHaveLength(1);
  });

  it('refuses a directory others may write to', () => {
    saveSession(env, session('http://127.0.0.1:8080'));
    fs.chmodSync(path.dirname(file()), 0o777);
    expect(() => readSessions(env)).toThrow(/may be written by others \(mode 0777\)/);
  });

  it('refuses a symbolic link in place of the file', () => {
    fs.mkdirSync(path.dirname(file()), { mode: 0o700 });
    const elsewhere = path.join(root, 'elsewhere.json');
    fs.writeFileSync(elsewhere, '{"version":1,"sessions":{}}', { mode: 0o600 });
    fs.symlinkSync(elsewhere, file());
    expect(() => readSessions(env)).toThrow(/is not a regular file/);
  });

  it('refuses a corrupt or foreign file with one line naming it', () => {
    fs.mkdirSync(path.dirname(file()), { mode: 0o700 });
    fs.writeFileSync(file(), '{"version":1,"sess', { mode: 0o600 });
    const message = (() => { try { readSessions(env); return ''; } catch (e) { return (e as Error).message; } })();
    expect(message).toBe(`${file()} is not valid JSON; remove it and run custos login again`);
    fs.writeFileSync(file(), JSON.stringify({ version: 1, sessions: { x: { ...session('http://a'), method: 'carrier-pigeon' } } }));
    expect(() => readSessions(env)).toThrow(/is not a Custos session file \(.*at sessions\.x\.method\)/);
    fs.writeFileSync(file(), JSON.stringify({ version: 2, sessions: {} }));
    expect(() => readSessions(env)).toThrow(/is not a Custos session file/);
    // Saving over a corrupt file is refused too: nothing in it is silently dropped.
    expect(() => saveSession(env, session('http://127.0.0.1:8080'))).toThrow(SessionFileError);
  });
});

describe('withSessionLock', () => {
  it('runs holders one at a time, in turn', async () => {
    const order: string[] = [];
    let release!: () => void;
    const first = withSessionLock(env, async () => {
      order.push('first in');
      await new Promise<void>((r) => { release = r; });
      order.push('first out');
    });
    await new Promise((r) => setImmediate(r));
    const second = withSessionLock(env, async () => { order.push('second in'); });
    await new Promise((r) => setTimeout(r, 200));
    expect(order).toEqual(['first in']);
    release();
    await Promise.all([first, second]);
    expect(order).toEqual(['first in', 'first out', 'second in']);
    expect(fs.existsSync(path.join(path.dirname(file()), 'sessions.json.lock'))).toBe(false);
  });

  it('releases the lock when the holder throws', async () => {
    await expect(withSessionLock(env, async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(await withSessionLock(env, async () => 'again')).toBe('again');
  });

  it('takes over a lock left by a process that is gone', async () => {
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    const pid = child.pid!;
    await new Promise((r) => child.once('exit', r));
    fs.mkdirSync(path.dirname(file()), { recursive: true, mode: 0o700 });
    fs.writeFileSync(path.join(path.dirname(file()), 'sessions.json.lock'), `${pid}\n`, { mode: 0o600 });
    expect(await withSessionLock(env, async () => 'taken over')).toBe('taken over');
  });
});
