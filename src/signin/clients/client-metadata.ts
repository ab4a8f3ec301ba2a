import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { z } from 'zod';
import type { Clock } from '../../platform/clock.js';
import { findBadText } from '../../platform/http/input-text.js';
import { ClientMetadataError, type ClientMetadataFetcher, type OAuthClient } from '../contracts.js';
import { OutboundRefused, createOutboundGuard, pinnedLookup, type HostLookup, type OutboundGuard, type VettedTarget } from './outbound-guard.js';

// Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document; the MCP specification 2025-11-25,
// "Client ID Metadata Documents"): an MCP client's client_id is an https URL, and the JSON document at that URL is
// its registration. Custos fetches it when the client first appears, validates it, and keeps it for a while.
//
// The client_id URL (clientIdUrlProblem; checked on the string as given, before any parsing could normalise it):
// - https (http only to a host in `--cimd-allow-private`), lower-case scheme followed by "//"; at most 2048
//   characters, all of them RFC 3986 URI characters, every "%" starting a percent-encoding;
// - no user info ("@" in the authority), the host written as a DNS name or IP address (no percent-encoding, no
//   zone id), no fragment ("#" anywhere), a path (at least "/"), and no "." or ".." path segment, percent-encoded
//   or not; a query is allowed (the draft only discourages it).
// - It is compared with the document's client_id as a plain string: `https://example.com:443/c` and
//   `https://example.com/c` are different clients, as the draft says.
//
// The fetch (every rule fails closed; nothing in a message ever comes from the fetched body):
// - Through the outbound guard (outbound-guard.ts): the host must not resolve to a private, loopback or other
//   special-use address, and the connection is pinned to the addresses it checked (no DNS rebinding).
// - GET with `Accept: application/json` and `Accept-Encoding: identity`, no credentials, no connection reuse,
//   response headers bounded to 8 KiB.
// - Only 200 is a document; any other status is fetch_failed, and a 3xx is never followed (a redirect could lead
//   anywhere the guard did not look).
// - At most `maxBytes` (default 5120, the draft's recommended 5 kB) are read: a larger Content-Length is refused
//   before reading, and the body is abandoned as soon as it passes the limit. The whole exchange (DNS included)
//   is aborted after `timeoutMs` (default 5 s).
// - Content-Type must be application/json or application/<something>+json; the body must be UTF-8 JSON holding
//   an object; a compressed body (a Content-Encoding we did not ask for) is refused.
//
// The document (parseClientMetadataDocument; a message names the first field that breaks a rule, never its value):
// - a JSON object whose client_id equals the client_id URL, character for character;
// - redirect_uris: 1 to 20 absolute URIs without a fragment: https, plain http only to 127.0.0.1, [::1] or
//   localhost (RFC 8252 section 7.3), or a private-use reverse-domain scheme such as com.example.app:/cb (7.1);
// - client_name: optional; trimmed; at most 200 characters; no control, line-break or bidirectional characters;
//   absent or blank, the client is named by the URL's host;
// - client_uri, logo_uri: optional https URLs (shown on the consent page; not fetched here);
// - grant_types: optional, from authorization_code and refresh_token, including authorization_code (default
//   ["authorization_code"]); response_types: optional, only ["code"];
// - public clients only: token_endpoint_auth_method absent or "none"; client_secret, client_secret_expires_at and
//   private key material in jwks are refused (the draft: no shared secret can be established this way);
// - scope: optional RFC 6749 scope tokens separated by single spaces; absent, the client may ask for whatever the
//   person holds (scope null); an empty string is refused rather than read as "no limit".
// Other members (software_id, policy_uri, jwks_uri, …) are ignored.
//
// Caching:
// - A valid document is kept for its Cache-Control max-age (minus Age), bounded to [60 s, 24 h]; without one,
//   `cacheTtlSeconds` (default 300). no-store / no-cache give the lower bound. At most `maxEntries` (default 1000)
//   are held; the oldest stored goes first. Time is the injected clock.
// - A failure is held for `failureHoldSeconds` (default 30; 0 turns it off): the same client_id fails again
//   with the same reason without any DNS query or request, so a bad client_id cannot make Custos hammer a host.
//   This is a back-off, not a cache of the answer: the failed response itself is never kept, and nothing
//   invalid is ever served as a client (the draft's "MUST NOT cache error responses" is about that).
// - Concurrent fetches of one client_id share a single request.

export const CLIENT_METADATA_DEFAULTS = {
  timeoutMs: 5_000,
  maxBytes: 5_120,
  cacheTtlSeconds: 300,
  minTtlSeconds: 60,
  maxTtlSeconds: 86_400,
  maxEntries: 1_000,
  failureHoldSeconds: 30,
} as const;

export const MAX_URL_LENGTH = 2048;
const MAX_REDIRECT_URIS = 20;
const MAX_NAME_LENGTH = 200;

export interface ClientMetadataDeps {
  /** `--cimd-allow-private`: host names, `name:port`, IP addresses or CIDRs that may be fetched although private. */
  allowPrivate: readonly string[];
  clock: Clock;
  timeoutMs?: number;
  maxBytes?: number;
  cacheTtlSeconds?: number;
  maxEntries?: number;
  failureHoldSeconds?: number;
  /** DNS, injectable for tests (default node:dns/promises lookup, all addresses). */
  lookup?: HostLookup;
}

// ---------------------------------------------------------------------------------------------------------
// The client_id URL

// RFC 3986 unreserved, reserved and "%": no space, no control character, no backslash, nothing non-ASCII.
const URI_CHARS = /^[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]*$/;
const BAD_PERCENT = /%(?![0-9A-Fa-f]{2})/;
const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;
// The authority as written: a DNS name or IPv4 address, or a bracketed IPv6 address (no zone), and a port.
const AUTHORITY = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{0,5})?$/;

function uriTextProblem(value: string): string | undefined {
  if (value.length > MAX_URL_LENGTH) return `is longer than ${MAX_URL_LENGTH} characters`;
  if (!URI_CHARS.test(value) || BAD_PERCENT.test(value)) return 'is not a valid URI (characters outside RFC 3986)';
  return undefined;
}

/**
 * Why `value` is not a Client Identifier URL this server would fetch; undefined when it is. `hostAllowed` says
 * whether the URL's host is in the allow list (which is what permits plain http).
 */
export function clientIdUrlProblem(value: string, hostAllowed: (url: URL) => boolean): string | undefined {
  const text = uriTextProblem(value);
  if (text) return text;
  const scheme = value.startsWith('https://') ? 'https' : value.startsWith('http://') ? 'http' : null;
  if (!scheme) return 'must be an https URL';
  if (!URL.canParse(value)) return 'is not a valid URL';
  const url = new URL(value);
  const rest = value.slice(scheme.length + 3);
  const authorityEnd = rest.search(/[/?#]/);
  const authority = authorityEnd === -1 ? rest : rest.slice(0, authorityEnd);
  if (authority.includes('@')) return 'must not carry a user name or password';
  if (value.includes('#')) return 'must not have a fragment';
  if (!authority || !url.hostname) return 'has no host';
  if (!AUTHORITY.test(authority)) return 'must name its host as a DNS name or an IP address, with an optional port';
  const afterAuthority = authorityEnd === -1 ? '' : rest.slice(authorityEnd);
  const path = afterAuthority.split('?')[0]!;
  if (!path.startsWith('/')) return 'must have a path (such as /client.json)';
  if (path.split('/').some((segment) => DOT_SEGMENT.test(segment))) return 'must not contain "." or ".." path segments';
  if (scheme === 'http' && !hostAllowed(url)) return 'must be an https URL';
  // Any port would let anyone use Custos to probe what answers where (a port-scan oracle): 443 only, unless the
  // host is allow-listed (development).
  if (url.port !== '' && !hostAllowed(url)) return 'must use the default https port (443)';
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------
// The document

const LOOPBACK_REDIRECT_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** redirect_uris (RFC 8252, RFC 9700): https; http only to a loopback host; or a private-use scheme; no fragment. */
function redirectUriProblem(value: string): string | undefined {
  const text = uriTextProblem(value);
  if (text) return text;
  if (value.includes('#')) return 'must not have a fragment';
  if (!URL.canParse(value)) return 'is not an absolute URI';
  const url = new URL(value);
  if (url.username || url.password) return 'must not carry a user name or password';
  if (url.protocol === 'https:') return url.hostname ? undefined : 'has no host';
  if (url.protocol === 'http:') {
    return LOOPBACK_REDIRECT_HOSTS.has(url.hostname) ? undefined : 'must use https (plain http only to 127.0.0.1, [::1] or localhost)';
  }
  // A private-use scheme is a reverse domain name (RFC 8252 section 7.1: com.example.app:/callback); requiring
  // the dot also keeps out javascript:, data:, file: and every other scheme a browser would act on.
  const scheme = url.protocol.slice(0, -1);
  if (!scheme.includes('.')) return 'must use https, http to a loopback host, or a private-use scheme such as com.example.app:/callback';
  if (!value.toLowerCase().startsWith(`${scheme}:`) || value.length === scheme.length + 1) return 'is not an absolute URI';
  return undefined;
}

/** client_uri, logo_uri: https URLs for the consent page. */
function httpsUrlProblem(value: string): string | undefined {
  const text = uriTextProblem(value);
  if (text) return text;
  if (!value.startsWith('https://') || !URL.canParse(value)) return 'must be an https URL';
  const url = new URL(value);
  if (url.username || url.password) return 'must not carry a user name or password';
  return url.hostname ? undefined : 'has no host';
}

function refineWith(check: (value: string) => string | undefined) {
  return (value: string, ctx: z.RefinementCtx) => {
    const problem = check(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  };
}

// RFC 6749 section 3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ), separated by single spaces.
const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]+(?: [\x21\x23-\x5B\x5D-\x7E]+)*$/;
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const ALLOWED_GRANTS = new Set(['authorization_code', 'refresh_token']);

const documentSchema = z.object({
  client_id: z.string(),
  redirect_uris: z.array(z.string().superRefine(refineWith(redirectUriProblem))).min(1, 'must list at least one redirect URI')
    .max(MAX_REDIRECT_URIS, `must list at most ${MAX_REDIRECT_URIS} redirect URIs`),
  client_name: z.string().optional(),
  client_uri: z.string().superRefine(refineWith(httpsUrlProblem)).optional(),
  logo_uri: z.string().superRefine(refineWith(httpsUrlProblem)).optional(),
  grant_types: z.array(z.string()).max(10).optional()
    .refine((g) => g === undefined || g.every((x) => ALLOWED_GRANTS.has(x)), 'may hold only authorization_code and refresh_token')
    .refine((g) => g === undefined || g.includes('authorization_code'), 'must include authorization_code'),
  response_types: z.array(z.string()).optional()
    .refine((r) => r === undefined || (r.length > 0 && r.every((x) => x === 'code')), 'may only be ["code"]'),
  token_endpoint_auth_method: z.string().optional()
    .refine((m) => m === undefined || m === 'none', 'must be "none": Custos accepts Client ID Metadata Documents only from public clients (PKCE, no client authentication)'),
  scope: z.string().max(2000).optional()
    .refine((s) => s === undefined || SCOPE.test(s), 'must be scope tokens separated by single spaces'),
  client_secret: z.undefined({ error: 'must not be present: no shared secret can be established through a metadata document' }).optional(),
  client_secret_expires_at: z.undefined({ error: 'must not be present: no shared secret can be established through a metadata document' }).optional(),
  jwks: z.unknown().optional().refine((j) => !hasPrivateKeyMaterial(j), 'must not contain private key material'),
});

function hasPrivateKeyMaterial(jwks: unknown): boolean {
  if (!jwks || typeof jwks !== 'object') return false;
  const keys = (jwks as { keys?: unknown }).keys;
  if (!Array.isArray(keys)) return false;
  return keys.some((k) => k !== null && typeof k === 'object' && PRIVATE_JWK_MEMBERS.some((m) => Object.hasOwn(k, m)));
}

function invalid(detail: string): ClientMetadataError {
  return new ClientMetadataError('invalid_document', `the client's metadata document is invalid: ${detail}`);
}

/** client_name: trimmed; at most 200 characters; no control characters, line breaks or bidirectional marks. */
function displayName(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const name = raw.trim();
  if (!name) return undefined;
  if (findBadText(name, 'client_name', false) || /[\t\n\r]/.test(name)) throw invalid('client_name contains a control character or a bidirectional mark');
  if (Array.from(name).length > MAX_NAME_LENGTH) throw invalid(`client_name is longer than ${MAX_NAME_LENGTH} characters`);
  return name;
}

/**
 * Validates a parsed Client ID Metadata Document fetched from `clientId` and maps it to the client the endpoints
 * see. Throws ClientMetadataError('invalid_document') naming the first field that breaks a rule (never its value).
 */
export function parseClientMetadataDocument(clientId: string, document: unknown): OAuthClient {
  if (document === null || typeof document !== 'object' || Array.isArray(document)) throw invalid('it is not a JSON object');
  const parsed = documentSchema.safeParse(document);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i ? '.' : ''}${String(p)}`)).join('') || 'the document';
    throw invalid(`${where}: ${issue.message}`);
  }
  const doc = parsed.data;
  if (doc.client_id !== clientId) throw invalid('client_id does not match the URL the document was fetched from');
  const name = displayName(doc.client_name);
  return {
    clientId,
    name: name ?? new URL(clientId).host,
    source: 'metadata_document',
    redirectUris: [...new Set(doc.redirect_uris)],
    grantTypes: doc.grant_types ? [...new Set(doc.grant_types)] : ['authorization_code'],
    scope: doc.scope === undefined ? null : [...new Set(doc.scope.split(' '))],
    clientUri: doc.client_uri ?? null,
    logoUri: doc.logo_uri ?? null,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Cache lifetime

/**
 * Seconds a document may be kept: Cache-Control max-age minus Age, bounded to [min, max]; `fallback` without a
 * max-age; the lower bound for no-store / no-cache or a max-age that cannot be read.
 */
export function cacheLifetimeSeconds(
  cacheControl: string | undefined,
  age: string | undefined,
  bounds: { fallback: number; min: number; max: number },
): number {
  const clamp = (s: number) => Math.min(bounds.max, Math.max(bounds.min, s));
  if (!cacheControl) return clamp(bounds.fallback);
  let maxAge: number | undefined;
  for (const part of cacheControl.split(',')) {
    const [rawName, ...rawValue] = part.split('=');
    const name = (rawName ?? '').trim().toLowerCase();
    const value = rawValue.join('=').trim().replace(/^"(.*)"$/, '$1');
    if (name === 'no-store' || name === 'no-cache') return bounds.min;
    if (name === 'max-age') {
      if (!/^\d{1,10}$/.test(value)) return bounds.min;
      maxAge = Math.min(maxAge ?? Infinity, Number(value));
    }
  }
  if (maxAge === undefined) return clamp(bounds.fallback);
  const ageSeconds = age && /^\d{1,10}$/.test(age.trim()) ? Number(age.trim()) : 0;
  return clamp(maxAge - ageSeconds);
}

// ---------------------------------------------------------------------------------------------------------
// The fetch

const JSON_TYPE = /^application\/(?:[a-z0-9!#$&^_.+-]+\+)?json$/;

interface Downloaded {
  body: Buffer;
  cacheControl: string | undefined;
  age: string | undefined;
}

function failed(where: string, detail: string): ClientMetadataError {
  return new ClientMetadataError('fetch_failed', `the client's metadata document at ${where} ${detail}`);
}

function download(target: VettedTarget, maxBytes: number, signal: AbortSignal): Promise<Downloaded> {
  const where = target.url.host;
  return new Promise<Downloaded>((resolve, reject) => {
    let settled = false;
    const finish = (error: ClientMetadataError | null, value?: Downloaded) => {
      if (settled) return;
      settled = true;
      if (error) {
        req.destroy();
        reject(error);
      } else {
        resolve(value!);
      }
    };
    const options: https.RequestOptions = {
      protocol: target.url.protocol,
      hostname: target.hostname,
      port: target.port,
      path: `${target.url.pathname}${target.url.search}`,
      method: 'GET',
      headers: { accept: 'application/json', 'accept-encoding': 'identity', 'user-agent': 'Custos (OAuth client metadata)' },
      agent: false,
      maxHeaderSize: 8 * 1024,
      lookup: pinnedLookup(target),
      signal,
    };
    if (target.url.protocol === 'https:' && net.isIP(target.hostname) === 0) options.servername = target.hostname;
    const req = (target.url.protocol === 'https:' ? https : http).request(options, (res) => {
      const status = res.statusCode ?? 0;
      if (status !== 200) {
        res.resume();
        const detail = status >= 300 && status < 400 ? `redirected (HTTP ${status}); redirects are not followed` : `answered HTTP ${status}, not 200`;
        return finish(failed(where, detail));
      }
      const encoding = (res.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
      if (encoding !== 'identity') return finish(failed(where, 'was sent compressed although identity was asked for'));
      const type = (res.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (!JSON_TYPE.test(type)) {
        return finish(new ClientMetadataError('invalid_document', `the client's metadata document at ${where} is not served as JSON (Content-Type must be application/json)`));
      }
      const declared = res.headers['content-length'];
      if (declared !== undefined && Number(declared) > maxBytes) return finish(failed(where, `is larger than ${maxBytes} bytes`));
      const chunks: Buffer[] = [];
      let total = 0;
      res.on('data', (chunk: Buffer) => {
        total += chunk.length;
        if (total > maxBytes) return finish(failed(where, `is larger than ${maxBytes} bytes`));
        chunks.push(chunk);
      });
      res.on('end', () => {
        const header = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join(', ') : v);
        finish(null, { body: Buffer.concat(chunks), cacheControl: header(res.headers['cache-control']), age: header(res.headers.age) });
      });
      // After 'end' this is a no-op; before it, the body was cut off (or the deadline destroyed the request).
      res.on('error', () => finish(failed(where, signal.aborted ? 'did not arrive in time' : 'was cut off')));
      res.on('close', () => finish(failed(where, signal.aborted ? 'did not arrive in time' : 'was cut off')));
    });
    req.on('error', () => finish(failed(where, signal.aborted ? 'did not arrive in time' : 'could not be fetched (connection or TLS failure)')));
    req.end();
  });
}

function parseBody(where: string, body: Buffer): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    throw new ClientMetadataError('invalid_document', `the client's metadata document at ${where} is not UTF-8 text`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ClientMetadataError('invalid_document', `the client's metadata document at ${where} is not valid JSON`);
  }
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal, onAbort: () => Error): Promise<T> {
  if (signal.aborted) return Promise.reject(onAbort());
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(onAbort());
    signal.addEventListener('abort', abort, { once: true });
    promise.then(
      (v) => { signal.removeEventListener('abort', abort); resolve(v); },
      (e: unknown) => { signal.removeEventListener('abort', abort); reject(e); },
    );
  });
}

interface Held {
  client: OAuthClient;
  expiresAt: number;
}

interface Failure {
  reason: ClientMetadataError['reason'];
  message: string;
  until: number;
}

export function createClientMetadataFetcher(deps: ClientMetadataDeps): ClientMetadataFetcher {
  const d = CLIENT_METADATA_DEFAULTS;
  const timeoutMs = deps.timeoutMs ?? d.timeoutMs;
  const maxBytes = deps.maxBytes ?? d.maxBytes;
  const fallbackTtl = Math.min(d.maxTtlSeconds, Math.max(d.minTtlSeconds, deps.cacheTtlSeconds ?? d.cacheTtlSeconds));
  const maxEntries = Math.max(1, deps.maxEntries ?? d.maxEntries);
  const failureHoldMs = Math.max(0, deps.failureHoldSeconds ?? d.failureHoldSeconds) * 1000;
  const { clock } = deps;
  const guard: OutboundGuard = createOutboundGuard({ allowPrivate: deps.allowPrivate, ...(deps.lookup ? { lookup: deps.lookup } : {}) });

  const cache = new Map<string, Held>();
  const failures = new Map<string, Failure>();
  const inflight = new Map<string, Promise<OAuthClient>>();

  function remember<V>(map: Map<string, V>, key: string, value: V): void {
    map.delete(key);
    while (map.size >= maxEntries) map.delete(map.keys().next().value!);
    map.set(key, value);
  }

  async function load(clientId: string): Promise<OAuthClient> {
    const url = new URL(clientId);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    try {
      let target: VettedTarget;
      try {
        target = await abortable(guard.vet(url), controller.signal, () => failed(url.host, 'did not arrive in time (DNS)'));
      } catch (error) {
        if (error instanceof OutboundRefused) {
          throw new ClientMetadataError(error.reason === 'not_allowed' ? 'not_allowed' : 'fetch_failed', `the client_id URL cannot be fetched: ${error.message}`);
        }
        throw error;
      }
      const got = await download(target, maxBytes, controller.signal);
      const client = parseClientMetadataDocument(clientId, parseBody(url.host, got.body));
      const ttl = cacheLifetimeSeconds(got.cacheControl, got.age, { fallback: fallbackTtl, min: d.minTtlSeconds, max: d.maxTtlSeconds });
      remember(cache, clientId, { client, expiresAt: clock.now().getTime() + ttl * 1000 });
      failures.delete(clientId);
      return client;
    } catch (error) {
      const known = error instanceof ClientMetadataError ? error : failed(url.host, 'could not be fetched');
      if (failureHoldMs > 0) remember(failures, clientId, { reason: known.reason, message: known.message, until: clock.now().getTime() + failureHoldMs });
      throw known;
    } finally {
      clearTimeout(timer);
    }
  }

  function isMetadataUrl(clientId: string): boolean {
    return clientIdUrlProblem(clientId, guard.hostAllowed) === undefined;
  }

  async function fetchClient(clientId: string): Promise<OAuthClient> {
    const problem = clientIdUrlProblem(clientId, guard.hostAllowed);
    if (problem) throw new ClientMetadataError('not_allowed', `the client_id URL ${problem}`);
    const now = clock.now().getTime();
    const held = cache.get(clientId);
    if (held && held.expiresAt > now) return structuredClone(held.client);
    if (held) cache.delete(clientId);
    const failure = failures.get(clientId);
    if (failure && failure.until > now) throw new ClientMetadataError(failure.reason, failure.message);
    if (failure) failures.delete(clientId);
    let running = inflight.get(clientId);
    if (!running) {
      running = load(clientId).finally(() => inflight.delete(clientId));
      inflight.set(clientId, running);
    }
    return structuredClone(await running);
  }

  return { isMetadataUrl, fetch: fetchClient };
}
