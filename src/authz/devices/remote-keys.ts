import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import { remoteUrlProblem } from '../../credentials/index.js';

// The keys of posture issuers that publish a JWKS URL. The credentials module keeps a bounded, fail-closed cache
// for its own trusted issuers; this part takes one like it through `RemoteKeySource` (the composition root can pass
// the credentials module's), and otherwise uses this minimal one over jose's createRemoteJWKSet:
// - the URL must pass remoteUrlProblem (https, or http to a loopback host; no user info or fragment), checked
//   before every fetch;
// - jose fetches with redirects not followed and anything but 200 refused, times out after 5 s, keeps the keys
//   10 minutes, and refetches on an unknown kid at most every 30 s;
// - at most 64 URLs are held (the oldest is dropped); a failed fetch refuses the assertion (posture unknown).

export interface RemoteKeySource {
  /** A jose key resolver for the JWKS at `url`; fetch problems reject (the assertion is then not trusted). */
  resolver(url: string): JWTVerifyGetKey;
  /** Forgets the keys of `url` (its issuer was removed). */
  invalidate(url: string): void;
}

const MAX_URLS = 64;

export function createRemoteKeySource(): RemoteKeySource {
  const sets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();
  return {
    resolver(url) {
      return async (header, token) => {
        const problem = remoteUrlProblem(url);
        if (problem) throw new Error(`the JWKS URL ${problem}`);
        let set = sets.get(url);
        if (!set) {
          while (sets.size >= MAX_URLS) sets.delete(sets.keys().next().value!);
          set = createRemoteJWKSet(new URL(url), { timeoutDuration: 5_000, cooldownDuration: 30_000, cacheMaxAge: 600_000 });
          sets.set(url, set);
        }
        return set(header, token);
      };
    },
    invalidate(url) {
      sets.delete(url);
    },
  };
}
