import { createRemoteJWKSet, customFetch, errors as joseErrors, type JWTVerifyGetKey, type RemoteJWKSet } from 'jose';
import type { Clock } from '../platform/clock.js';
import { outboundUrlProblem } from '../platform/url-rule.js';

// The public keys of trusted workload issuers (GitHub Actions, a Kubernetes cluster, …), fetched from the
// JWKS URL configured for each issuer and kept for a bounded time. jose's createRemoteJWKSet does the fetch,
// key selection (kid, alg, use, key_ops) and its own refetch on an unknown kid; this file bounds it.
//
// Rules:
// - Only https URLs, or plain http to a loopback host (127.0.0.1, [::1], localhost: a local issuer in tests);
//   no user info, no fragment. Checked when an issuer is configured and again before every fetch.
// - At most `maxIssuers` key sets are held (default 64); adding one more evicts the oldest fetched.
// - A key set is used for at most `maxAgeMs` (default 10 minutes) by the injected clock, then fetched again
//   (jose's own cacheMaxAge is set to the same bound, by the system clock). An unknown kid refetches at most
//   once per `cooldownMs` (default 30 s), so a flood of made-up kids cannot turn into a flood of fetches.
// - A response is read up to `maxBytes` (default 64 KiB) and refused beyond it; the fetch, body included,
//   is aborted after `timeoutMs` (default 5 s); redirects are never followed (jose fetches with
//   redirect: 'manual' and anything but 200 is refused), so a JWKS URL cannot send us to another host.
// - Fail closed, no grace: when a key set has outlived its lifetime and cannot be fetched again, assertions
//   from that issuer are refused (JwksUnavailable) until a fetch succeeds. Stale keys are never used. After a
//   failed fetch, the URL is not tried again for `failureHoldMs` (default 5 s): every assertion in that window
//   is refused without an outbound request, so a dead issuer does not cost one timeout per token request.
// - Every fetch is counted (fetchCount), so tests can prove what was cached.

export const REMOTE_JWKS_DEFAULTS = {
  maxIssuers: 64,
  maxAgeMs: 10 * 60_000,
  maxBytes: 64 * 1024,
  timeoutMs: 5_000,
  cooldownMs: 30_000,
  failureHoldMs: 5_000,
} as const;

export interface RemoteJwksOptions {
  clock: Clock;
  maxIssuers?: number;
  maxAgeMs?: number;
  maxBytes?: number;
  timeoutMs?: number;
  cooldownMs?: number;
  failureHoldMs?: number;
}

/** The issuer's keys could not be fetched (or their URL is not allowed): the assertion is refused. */
export class JwksUnavailable extends Error {
  readonly code = 'ERR_CUSTOS_JWKS_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'JwksUnavailable';
  }
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost']);

/** Why `value` may not be fetched from or trusted as an issuer URL; undefined when it may. */
export function remoteUrlProblem(value: string): string | undefined {
  return outboundUrlProblem(value, { allows: (host) => LOOPBACK_HOSTS.has(host), refusal: 'must use https (plain http only to 127.0.0.1, [::1] or localhost)' });
}

interface Entry {
  set: RemoteJWKSet;
  /** Clock time (ms) the key set was fetched. */
  fetchedAt: number;
  ready: Promise<void>;
}

export function createRemoteJwksCache(options: RemoteJwksOptions) {
  const o = { ...REMOTE_JWKS_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as Required<RemoteJwksOptions>;
  const { clock } = o;
  const entries = new Map<string, Entry>();
  const failures = new Map<string, number>();
  const fetchesByUrl = new Map<string, number>();
  let fetches = 0;

  async function boundedFetch(url: string, init: { headers: Headers; method: 'GET'; redirect: 'manual'; signal: AbortSignal }): Promise<Response> {
    fetches += 1;
    if (fetchesByUrl.size > 4 * o.maxIssuers && !fetchesByUrl.has(url)) fetchesByUrl.clear();
    fetchesByUrl.set(url, (fetchesByUrl.get(url) ?? 0) + 1);
    const res = await fetch(url, init);
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => undefined);
      throw new JwksUnavailable(res.status >= 300 && res.status < 400 ? `the JWKS URL redirected (${res.status}); redirects are not followed` : `the JWKS URL answered ${res.status}`);
    }
    const declared = Number(res.headers.get('content-length') ?? '0');
    if (declared > o.maxBytes) {
      await res.body?.cancel().catch(() => undefined);
      throw new JwksUnavailable(`the JWKS response is larger than ${o.maxBytes} bytes`);
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    const reader = res.body?.getReader();
    for (;;) {
      const next = reader ? await reader.read() : { done: true as const, value: undefined };
      if (next.done) break;
      total += next.value.byteLength;
      if (total > o.maxBytes) {
        await reader!.cancel().catch(() => undefined);
        throw new JwksUnavailable(`the JWKS response is larger than ${o.maxBytes} bytes`);
      }
      chunks.push(next.value);
    }
    return new Response(new Uint8Array(Buffer.concat(chunks)), { status: 200, headers: { 'content-type': 'application/json' } });
  }

  function entryFor(href: string): Entry {
    const now = clock.now().getTime();
    const current = entries.get(href);
    if (current && now - current.fetchedAt < o.maxAgeMs) return current;
    if (current) entries.delete(href);
    const failedAt = failures.get(href);
    if (failedAt !== undefined && now - failedAt < o.failureHoldMs) {
      throw new JwksUnavailable('the issuer\'s keys could not be fetched a moment ago; not retried yet');
    }
    while (entries.size >= o.maxIssuers) entries.delete(entries.keys().next().value!);
    const set = createRemoteJWKSet(new URL(href), {
      timeoutDuration: o.timeoutMs, cooldownDuration: o.cooldownMs, cacheMaxAge: o.maxAgeMs, [customFetch]: boundedFetch,
    });
    const entry: Entry = { set, fetchedAt: now, ready: set.reload() };
    entries.set(href, entry);
    entry.ready.then(() => { failures.delete(href); }, () => {
      if (entries.get(href) === entry) entries.delete(href);
      failures.delete(href);
      while (failures.size >= o.maxIssuers) failures.delete(failures.keys().next().value!);
      failures.set(href, clock.now().getTime());
    });
    return entry;
  }

  return {
    /** A jose key resolver for the JWKS at `url`, cached as above; fetch problems throw JwksUnavailable. */
    resolver(url: string): JWTVerifyGetKey {
      return async (header, token) => {
        const problem = remoteUrlProblem(url);
        if (problem) throw new JwksUnavailable(`the JWKS URL ${problem}`);
        const entry = entryFor(new URL(url).href);
        try {
          await entry.ready;
        } catch (cause) {
          throw cause instanceof JwksUnavailable ? cause : new JwksUnavailable('the issuer\'s keys could not be fetched', { cause });
        }
        try {
          return await entry.set(header, token);
        } catch (error) {
          // Not finding exactly one key is the token's problem; anything else (a failed refetch) is the fetch's.
          if (error instanceof joseErrors.JWKSNoMatchingKey || error instanceof joseErrors.JWKSMultipleMatchingKeys) throw error;
          throw error instanceof JwksUnavailable ? error : new JwksUnavailable('the issuer\'s keys could not be fetched', { cause: error });
        }
      };
    },
    /** Forgets the key set of `url` (its issuer was changed or removed) and any recent failure. */
    invalidate(url: string): void {
      const href = URL.canParse(url) ? new URL(url).href : url;
      entries.delete(href);
      failures.delete(href);
    },
    /** Fetches made so far, for one URL or all. */
    fetchCount(url?: string): number {
      return url === undefined ? fetches : fetchesByUrl.get(new URL(url).href) ?? 0;
    },
    /** How many key sets are held. */
    size(): number {
      return entries.size;
    },
  };
}
export type RemoteJwksCache = ReturnType<typeof createRemoteJwksCache>;
