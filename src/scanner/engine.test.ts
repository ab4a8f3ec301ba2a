import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RULES } from './rules/rules.js';
import { createEngine } from './engine.js';

// Rules marked `anchored` whose pattern starts with a keyword must find exactly what a sweep of the
// whole text finds (the generic rules are anchored by design and are checked in rules/site.test.ts).
const anchoredByKeyword = RULES.filter((r) => r.anchored === true && r.site === undefined);

describe('anchored rules', () => {
  it('exist (jwt, kubernetes token, AWS key id)', () => {
    expect(anchoredByKeyword.map((r) => r.id).sort()).toEqual(['aws-access-key-id', 'jwt', 'kubernetes-service-account-token']);
  });
  for (const rule of anchoredByKeyword) {
    it(`${rule.id} finds what a whole-text sweep finds`, () => {
      const anchored = createEngine({ rules: [rule] });
      const sweep = createEngine({ rules: [{ ...rule, anchored: false }] });
      const piece = fc.constantFrom(...rule.examples.truePositives, ...rule.examples.falsePositives, ...rule.keywords,
        ...rule.keywords.map((k) => k.toUpperCase()), ' ', '\n', '_', 'x', '=', '"', 'eyJ', '.', 'AKIA', 'abc');
      fc.assert(fc.property(fc.array(piece, { maxLength: 12 }).map((a) => a.join('')), (text) => {
        const got = anchored.scanText(text).map((m) => [m.index, m.secret]);
        expect(got).toEqual(sweep.scanText(text).map((m) => [m.index, m.secret]));
      }), { numRuns: 500 });
    });
  }
});

describe('ASCII bytes for the keyword pass', () => {
  const engine = createEngine({ rules: RULES });
  it('give the same matches as the string alone, for every rule example', () => {
    for (const rule of RULES) {
      for (const text of [...rule.examples.truePositives, ...rule.examples.falsePositives]) {
        const bytes = Buffer.from(text, 'latin1');
        if (!/^[\x00-\x7f]*$/.test(text)) continue;
        const a = engine.scanText(text, rule.examplePath).map((m) => [m.rule.id, m.index, m.line, m.column]);
        expect(engine.scanText(text, rule.examplePath, bytes).map((m) => [m.rule.id, m.index, m.line, m.column]), rule.id).toEqual(a);
      }
    }
  });
  it('must be the text itself', () => {
    expect(() => engine.scanText('abc', '', Buffer.from('ab'))).toThrow();
  });
});
