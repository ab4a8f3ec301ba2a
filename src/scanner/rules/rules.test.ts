import { describe, expect, it } from 'vitest';
import { RULES } from './rules.js';
import { createEngine } from '../engine.js';

const engine = createEngine({ rules: RULES });

describe('rule examples', () => {
  it('has unique ids and at least one example of each kind per rule', () => {
    expect(new Set(RULES.map((r) => r.id)).size).toBe(RULES.length);
    for (const r of RULES) {
      expect(r.examples.truePositives.length, r.id).toBeGreaterThan(0);
      expect(r.examples.falsePositives.length, r.id).toBeGreaterThan(0);
      expect(r.keywords.every((k) => k === k.toLowerCase()), r.id).toBe(true);
    }
  });

  for (const rule of RULES) {
    describe(rule.id, () => {
      it.each(rule.examples.truePositives.map((t, i) => [i, t] as const))('true positive %i is found', (_i, text) => {
        const ids = engine.scanText(text, rule.examplePath).map((m) => m.rule.id);
        expect(ids).toContain(rule.id);
      });
      it.each(rule.examples.falsePositives.map((t, i) => [i, t] as const))('false positive %i is not reported', (_i, text) => {
        const ids = engine.scanText(text, rule.examplePath).map((m) => m.rule.id);
        expect(ids).not.toContain(rule.id);
      });
    });
  }
});

describe('engine', () => {
  const tp = RULES.find((r) => r.id === 'github-token')!.examples.truePositives[0]!;
  it('hands the filters the match line and the line before it', () => {
    const [m] = engine.scanText(`first\n# above\nx ${tp}\n`);
    expect(m).toMatchObject({ lineText: `x ${tp}\n`, previousLineText: '# above\n' });
    expect(engine.scanText(tp)[0]).toMatchObject({ previousLineText: '' });
  });
  it('reports 1-based line and column of the secret', () => {
    const [m] = engine.scanText(`a\nbb\n  x=${tp.split('=')[1]}`);
    expect(m).toMatchObject({ line: 3, column: 5 });
  });
  it('prefers the specific rule over the generic one on the same text', () => {
    const ids = engine.scanText(`api_key = "${tp.split('=')[1]}"`).map((m) => m.rule.id);
    expect(ids).toEqual(['github-token']);
  });
  it('can disable rules and override severity', () => {
    const e = createEngine({ rules: RULES, tuning: { disable: ['github-token'], severity: { 'generic-secret': 'low' } } });
    const ms = e.scanText(`api_key = "${tp.split('=')[1]}"`);
    expect(ms.map((m) => [m.rule.id, m.rule.severity])).toEqual([['generic-secret', 'low']]);
  });
  it('keyword matching is case-insensitive', () => {
    const text = RULES.find((r) => r.id === 'generic-secret')!.examples.truePositives[0]!.toUpperCase().replace('CLIENT_SECRET', 'Client_Secret');
    expect(engine.scanText(text.replace(/"[^"]+"/, '"Ab3dEf9hIj2lMn5pQr8tUv1x"')).map((m) => m.rule.id)).toContain('generic-secret');
  });
});

describe('rule table', () => {
  it('keeps its order: Custos first, specific before general, generic rules last', () => {
    expect(RULES.map((r) => r.id)).toEqual([
      'custos-operator-token', 'custos-api-key', 'custos-client-secret', 'custos-refresh-token', 'openai-project-key', 'openai-service-account-key', 'openai-legacy-key',
      'anthropic-api-key', 'google-api-key', 'azure-openai-key', 'aws-access-key-id', 'aws-secret-access-key',
      'huggingface-token', 'groq-api-key', 'replicate-api-token', 'together-api-key', 'fireworks-api-key', 'openrouter-api-key',
      'perplexity-api-key', 'xai-api-key', 'deepseek-api-key', 'mistral-api-key', 'cohere-api-key', 'pinecone-api-key',
      'wandb-api-key', 'langsmith-api-key', 'github-token', 'github-fine-grained-pat', 'gitlab-token', 'slack-token',
      'slack-webhook', 'stripe-secret-key', 'gcp-service-account-key', 'azure-storage-connection-string', 'private-key',
      'kubernetes-service-account-token', 'jwt', 'database-url-password', 'docker-config-auth', 'npm-token',
      'generic-secret-unquoted', 'generic-secret',
    ]);
  });
});
