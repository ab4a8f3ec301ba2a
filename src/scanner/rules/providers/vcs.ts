// Source hosting: GitHub and GitLab tokens.
import type { Rule } from '../../types.js';
import { B, E } from '../pattern-parts.js';
import { hasTrailingCrc32 } from '../checksum.js';
import { ALNUM, URLSAFE, checksummedToken, randomString as r, seeded } from '../fake.js';

/** Example secrets are drawn from this file's own seed, so editing one provider's examples leaves the others alone. */
const rnd = seeded(424206);
const ghp = checksummedToken('ghp_', rnd);

export const githubToken: Rule = {
  id: 'github-token', description: 'GitHub token (classic, OAuth, app, refresh)', provider: 'GitHub', severity: 'critical',
  keywords: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_'], checksum: true,
  pattern: `${B}gh[pousr]_[A-Za-z0-9]{36}${E}`,
  validate: (s) => hasTrailingCrc32(s, 4),
  examples: {
    truePositives: [`GITHUB_TOKEN=${ghp}`],
    // Right shape, wrong checksum.
    falsePositives: [`ghp_${r(ALNUM, 30, rnd)}ABCDEF`],
  },
};

export const githubFineGrainedPat: Rule = {
  id: 'github-fine-grained-pat', description: 'GitHub fine-grained personal access token', provider: 'GitHub', severity: 'critical',
  keywords: ['github_pat_'], minEntropy: 4,
  pattern: `${B}github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}${E}`,
  examples: { truePositives: [`token: github_pat_${r(ALNUM, 22, rnd)}_${r(ALNUM, 59, rnd)}`], falsePositives: ['github_pat_xxxxxxxx'] },
};

export const gitlabToken: Rule = {
  id: 'gitlab-token', description: 'GitLab token (personal, pipeline trigger, deploy, runner)', provider: 'GitLab', severity: 'critical',
  keywords: ['glpat-', 'glptt-', 'gldt-', 'glrt-'], minEntropy: 3.5,
  pattern: `${B}(?:glpat|glptt|gldt|glrt)-[A-Za-z0-9_-]{20,64}(?:\\.[0-9a-z]{2}\\.[0-9a-z]{9})?${E}`,
  examples: { truePositives: [`GITLAB_TOKEN=glpat-${r(URLSAFE, 20, rnd)}`], falsePositives: ['glpat-xxxxxxxxxxxxxxxxxxxx'] },
};
