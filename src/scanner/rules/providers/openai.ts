// OpenAI keys: project, service-account/admin and legacy user keys.
import type { Rule } from '../../types.js';
import { B, E } from '../pattern-parts.js';
import { ALNUM, URLSAFE, randomString as r, seeded } from '../fake.js';

/** Example secrets are drawn from this file's own seed, so editing one provider's examples leaves the others alone. */
const rnd = seeded(424202);

export const openaiProjectKey: Rule = {
  id: 'openai-project-key', description: 'OpenAI project API key', provider: 'OpenAI', severity: 'critical',
  keywords: ['sk-proj-'], minEntropy: 4,
  pattern: `${B}sk-proj-[A-Za-z0-9_-]{40,250}${E}`,
  examples: {
    truePositives: [`OPENAI_API_KEY=sk-proj-${r(URLSAFE, 74, rnd)}T3BlbkFJ${r(URLSAFE, 74, rnd)}`],
    falsePositives: ['sk-proj-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx', 'const prefix = "sk-proj-"'],
  },
};

export const openaiServiceAccountKey: Rule = {
  id: 'openai-service-account-key', description: 'OpenAI service-account or admin key', provider: 'OpenAI', severity: 'critical',
  keywords: ['sk-svcacct-', 'sk-admin-'], minEntropy: 4,
  pattern: `${B}sk-(?:svcacct|admin)-[A-Za-z0-9_-]{40,250}${E}`,
  examples: {
    truePositives: [`key = "sk-svcacct-${r(URLSAFE, 58, rnd)}T3BlbkFJ${r(URLSAFE, 58, rnd)}"`],
    falsePositives: ['sk-svcacct-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'],
  },
};

export const openaiLegacyKey: Rule = {
  id: 'openai-legacy-key', description: 'OpenAI legacy user API key', provider: 'OpenAI', severity: 'critical',
  keywords: ['t3blbkfj'],
  pattern: `${B}sk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}${E}`,
  examples: {
    truePositives: [`openai.api_key = "sk-${r(ALNUM, 20, rnd)}T3BlbkFJ${r(ALNUM, 20, rnd)}"`],
    falsePositives: [`sk-${r(ALNUM, 48, rnd)}`],
  },
};
