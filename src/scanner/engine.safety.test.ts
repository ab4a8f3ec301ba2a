// Regex safety: every rule on adversarial input (1 MB lines, long near-matching runs) stays
// within a generous budget. V8's engine backtracks, so bounded quantifiers must carry this.
import { describe, expect, it } from 'vitest';
import { RULES } from './rules/rules.js';
import { createEngine } from './engine.js';

const MB = 1 << 20;
const BUDGET_MS = 2000;

function fill(unit: string, size = MB): string {
  return unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
}

function adversarial(keyword: string, tp: string): Record<string, string> {
  const head = tp.slice(0, Math.min(tp.length - 1, 60));
  return {
    'a 1 MB line of letters': `${keyword}${fill('a')}`,
    'keyword repeated for 1 MB': fill(keyword),
    'keyword then 1 MB of token characters': `${keyword}${fill('Ab3_-')}`,
    'truncated true positive repeated': fill(head),
    'truncated true positive, newlines escaped, repeated': fill(head.replace(/\n/g, '\\n')),
    'true positive prefix then separators': fill(`${head}= "`),
    'near-miss assignment, no closing quote': `${keyword}_key = "${fill('x9Z')}`,
    'dots and dashes': `${keyword}${fill('.-')}`,
    'many lines': fill(`${keyword}=\n`),
  };
}

describe('regex safety', () => {
  for (const rule of RULES) {
    it(`${rule.id} stays within ${BUDGET_MS} ms per adversarial input`, () => {
      const engine = createEngine({ rules: [rule] });
      const tp = rule.examples.truePositives[0]!;
      for (const keyword of rule.keywords) {
        for (const [name, input] of Object.entries(adversarial(keyword, tp))) {
          const t0 = performance.now();
          engine.scanText(input, rule.examplePath);
          const ms = performance.now() - t0;
          expect(ms, `${rule.id} / ${keyword} / ${name}`).toBeLessThan(BUDGET_MS);
        }
      }
    });
  }
});
