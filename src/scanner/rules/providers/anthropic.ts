// Anthropic API and admin keys.
import type { Rule } from '../../types.js';
import { B, E } from '../pattern-parts.js';
import { URLSAFE, randomString as r, seeded } from '../fake.js';

/** Example secrets are drawn from this file's own seed, so editing one provider's examples leaves the others alone. */
const rnd = seeded(424203);

export const anthropicApiKey: Rule = {
  id: 'anthropic-api-key', description: 'Anthropic API or admin key', provider: 'Anthropic', severity: 'critical',
  keywords: ['sk-ant-'], minEntropy: 4,
  pattern: `${B}sk-ant-(?:api|admin)[0-9]{2}-[A-Za-z0-9_-]{80,120}${E}`,
  examples: {
    truePositives: [`ANTHROPIC_API_KEY="sk-ant-api03-${r(URLSAFE, 93, rnd)}AA"`],
    falsePositives: ['sk-ant-api03-...', `sk-ant-api03-${'A'.repeat(95)}`],
  },
};
