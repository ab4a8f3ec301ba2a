// SaaS APIs: Slack tokens and webhooks, Stripe live keys.
import type { Rule } from '../../types.js';
import { B, E } from '../pattern-parts.js';
import { ALNUM, UPPER32, randomString as r, seeded } from '../fake.js';

/** Example secrets are drawn from this file's own seed, so editing one provider's examples leaves the others alone. */
const rnd = seeded(424207);

export const slackToken: Rule = {
  id: 'slack-token', description: 'Slack token', provider: 'Slack', severity: 'high',
  keywords: ['xoxb-', 'xoxp-', 'xoxa-', 'xoxr-', 'xoxs-', 'xoxe'], minEntropy: 3,
  pattern: `${B}xox(?:[baprs]|e(?:\\.xox[bp])?)-[0-9]{1,2}-?[0-9A-Za-z-]{10,250}${E}`,
  examples: { truePositives: [`SLACK_BOT_TOKEN=xoxb-${r('0123456789', 12, rnd)}-${r('0123456789', 13, rnd)}-${r(ALNUM, 24, rnd)}`], falsePositives: ['xoxb-your-token-here'] },
};

export const slackWebhook: Rule = {
  id: 'slack-webhook', description: 'Slack incoming webhook URL', provider: 'Slack', severity: 'medium',
  keywords: ['hooks.slack.com'],
  pattern: `https://hooks\\.slack\\.com/services/T[A-Z0-9]{8,12}/B[A-Z0-9]{8,12}/[A-Za-z0-9]{24}`,
  examples: { truePositives: [`url = "https://hooks.slack.com/services/T${r(UPPER32, 10, rnd)}/B${r(UPPER32, 10, rnd)}/${r(ALNUM, 24, rnd)}"`], falsePositives: ['https://hooks.slack.com/services/...'] },
};

export const stripeSecretKey: Rule = {
  id: 'stripe-secret-key', description: 'Stripe live secret or restricted key', provider: 'Stripe', severity: 'critical',
  keywords: ['sk_live_', 'rk_live_'], minEntropy: 3.5,
  pattern: `${B}(?:sk|rk)_live_[A-Za-z0-9]{24,247}${E}`,
  examples: { truePositives: [`STRIPE_KEY=sk_live_${r(ALNUM, 99, rnd)}`], falsePositives: [`sk_test_${r(ALNUM, 24, rnd)}`] },
};
