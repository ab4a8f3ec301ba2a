import fs from 'node:fs';
import path from 'node:path';
import { BOOTSTRAP_TOKEN_FILE } from '../platform/data-dir.js';

// The CLI is a client of the API: it never opens the store itself (except init/serve), so the API's
// role checks govern every CLI command too.

export class CliError extends Error {
  constructor(message: string, readonly exitCode: number = 1) {
    super(message);
    this.name = 'CliError';
  }
}

export interface ClientOptions {
  server?: string;
  token?: string;
  dataDir?: string;
}

export interface ApiClient {
  request<T = unknown>(method: string, pathAndQuery: string, body?: unknown): Promise<T>;
  requestText(method: string, pathAndQuery: string): Promise<{ text: string; headers: Headers }>;
  /** Streams a JSON Lines response line by line (exports can be larger than one string may hold). */
  requestLines(pathAndQuery: string): AsyncIterable<string>;
  server: string;
}

export function resolveToken(opts: ClientOptions, env: NodeJS.ProcessEnv): string | undefined {
  if (opts.token) return opts.token;
  if (env.CUSTOS_TOKEN) return env.CUSTOS_TOKEN;
  const dir = path.resolve(opts.dataDir ?? env.CUSTOS_DATA_DIR ?? './.custos');
  const file = path.join(dir, BOOTSTRAP_TOKEN_FILE);
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').trim() : undefined;
}

/** The control plane's URL: --server, CUSTOS_SERVER, or the local default; a usage error unless http(s). */
export function resolveServer(opts: ClientOptions, env: NodeJS.ProcessEnv): string {
  const server = (opts.server ?? env.CUSTOS_SERVER ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  try {
    const url = new URL(server);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error();
  } catch {
    throw new CliError(`--server '${server}' is not an http(s) URL`, 2);
  }
  return server;
}

export function createClient(opts: ClientOptions, env: NodeJS.ProcessEnv = process.env): ApiClient {
  const server = resolveServer(opts, env);
  const token = resolveToken(opts, env);

  async function send(method: string, pathAndQuery: string, body?: unknown): Promise<Response> {
    if (!token) throw new CliError('no API token: pass --token, set CUSTOS_TOKEN, or run where the data dir holds bootstrap-admin.token', 3);
    let res: Response;
    try {
      res = await fetch(server + pathAndQuery, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          'user-agent': 'custos-cli',
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new CliError(`cannot reach the Custos server at ${server} (${(error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message}); start it with: custos serve`, 3);
    }
    if (!res.ok) {
      const text = await res.text();
      let message = `${res.status} ${res.statusText}`;
      try {
        const problem = JSON.parse(text) as { detail?: string; code?: string };
        if (problem.detail) message = `${problem.detail} (${problem.code ?? res.status})`;
      } catch {
        // not problem+json
      }
      // A token the server refuses is a credentials problem (exit 3), like having none.
      throw new CliError(message, res.status === 401 ? 3 : 1);
    }
    return res;
  }

  return {
    server,
    async request<T>(method: string, pathAndQuery: string, body?: unknown): Promise<T> {
      const res = await send(method, pathAndQuery, body);
      if (res.status === 204) return undefined as T;
      return (await res.json()) as T;
    },
    async *requestLines(pathAndQuery: string) {
      const res = await send('GET', pathAndQuery);
      if (!res.body) return;
      const decoder = new TextDecoder();
      let rest = '';
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        const lines = (rest + decoder.decode(chunk, { stream: true })).split('\n');
        rest = lines.pop()!;
        for (const line of lines) if (line) yield line;
      }
      rest += decoder.decode();
      if (rest) yield rest;
    },
    async requestText(method: string, pathAndQuery: string) {
      const res = await send(method, pathAndQuery);
      return { text: await res.text(), headers: res.headers };
    },
  };
}

export function query(params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
