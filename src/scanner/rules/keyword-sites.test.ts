import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RULES } from './rules.js';
import { createEngine } from '../engine.js';
import { shannonEntropy } from './checksum.js';

// A site check may let through a site the regex rejects, never the reverse: wherever the rule's
// sticky regex matches at a keyword, the check must say true.
const siteRules = RULES.filter((r) => r.site !== undefined);

/** Text made of the pieces an assignment is built from, so matches are frequent. */
const piece = fc.constantFrom(
  'secret', 'Password', 'passwd', 'TOKEN', 'api_key', 'api-key', 'apikey', 'access_key', 'auth-key', 'credentials', 'credential',
  '_', '.', '-', 'x', 'Q9', 'name', ' ', '  ', '\t', '\n', '\r\n', '\u00a0', '\u2028', '=', ':', ':=', '=>', '==', ',', '"', "'", '`',
  'Ab3dEf9hIj2lMn5p', 'qR8tUv1xYz4wK7mN0', 'export ', '- ', 'é', 'a'.repeat(35),
);

describe('keyword site checks', () => {
  for (const rule of siteRules) {
    it(`${rule.id}: true wherever the pattern matches at a keyword`, () => {
      const re = new RegExp(rule.pattern, `y${rule.flags ?? ''}`);
      fc.assert(fc.property(fc.array(piece, { maxLength: 24 }).map((a) => a.join('')), (text) => {
        const lower = text.toLowerCase();
        for (const k of rule.keywords) {
          for (let p = lower.indexOf(k); p !== -1; p = lower.indexOf(k, p + 1)) {
            re.lastIndex = p;
            if (re.test(text)) expect(rule.site!(text, p + k.length), `${JSON.stringify(text)} at ${p}`).toBe(true);
          }
        }
      }), { numRuns: 3000 });
    });
  }

  it('the engine finds the same generic secrets with and without the site checks', () => {
    const withSite = createEngine({ rules: siteRules });
    const without = createEngine({ rules: siteRules.map(({ site: _s, ...r }) => r) });
    const value = fc.stringMatching(/^[A-Za-z0-9]{16,24}$/);
    fc.assert(fc.property(fc.array(fc.oneof(piece, value), { maxLength: 30 }).map((a) => a.join('')), (text) => {
      for (const path of ['src/a.ts', 'deploy/.env']) {
        const a = withSite.scanText(text, path).map((m) => [m.rule.id, m.index]);
        const b = without.scanText(text, path).map((m) => [m.rule.id, m.index]);
        expect(a).toEqual(b);
      }
    }), { numRuns: 2000 });
  });

  it('rejects the common non-assignment sites', () => {
    const quoted = RULES.find((r) => r.id === 'generic-secret')!.site!;
    const at = (t: string, k: string) => quoted(t, t.indexOf(k) + k.length);
    expect(at('const token = req.headers.authorization', 'token')).toBe(false);
    expect(at('if (!sessionToken) throw', 'Token')).toBe(false);
    expect(at('client_secret = "abc"', 'secret')).toBe(true);
    expect(at('"api_key": \'x', 'api_key')).toBe(true);
  });
});

describe('shannonEntropy', () => {
  const naive = (s: string) => {
    const counts = new Map<string, number>();
    for (const ch of s.split('')) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    let h = 0;
    for (const n of counts.values()) h -= (n / s.length) * Math.log2(n / s.length);
    return h;
  };
  it('agrees with a naive count, call after call (its shared counts are left clean)', () => {
    fc.assert(fc.property(fc.string({ unit: fc.constantFrom(...'aAb0+/\u00e9\u4e2d'), maxLength: 60 }), (s) => {
      expect(shannonEntropy(s)).toBeCloseTo(naive(s), 10);
      expect(shannonEntropy(s)).toBeCloseTo(naive(s), 10);
    }));
    expect(shannonEntropy('')).toBe(0);
    expect(shannonEntropy('abcd')).toBeCloseTo(2, 10);
  });
});
