// Offline checksum helpers shared by rules (GitHub, npm, Custos tokens all use CRC32 in base62).
import { crc32Base62 } from '../../platform/credential-format.js';

/** GitHub classic/fine-grained tokens and npm tokens: last 6 chars are base62(CRC32(prefix+random)). */
export function hasTrailingCrc32(token: string, payloadStart: number): boolean {
  if (token.length < payloadStart + 7) return false;
  const body = token.slice(0, -6);
  const crc = token.slice(-6);
  // The checksum covers only the random part for GitHub and npm tokens.
  return crc32Base62(body.slice(payloadStart)) === crc;
}

/** ASCII counts for `shannonEntropy`, shared and left all-zero between calls (it runs once per candidate secret). */
const asciiCounts = new Uint32Array(128);

/** Shannon entropy in bits per character. */
export function shannonEntropy(s: string): number {
  const n = s.length;
  if (n === 0) return 0;
  // Secrets are almost always ASCII: count in a typed array, fall back to a Map otherwise.
  let other: Map<number, number> | undefined;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 128) asciiCounts[c]!++;
    else (other ??= new Map()).set(c, (other.get(c) ?? 0) + 1);
  }
  let h = 0;
  // Second pass over the string: each distinct character adds its term once, and its count is reset.
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 128) continue;
    const k = asciiCounts[c]!;
    if (k === 0) continue;
    asciiCounts[c] = 0;
    const p = k / n;
    h -= p * Math.log2(p);
  }
  if (other) {
    for (const k of other.values()) {
      const p = k / n;
      h -= p * Math.log2(p);
    }
  }
  return h;
}
