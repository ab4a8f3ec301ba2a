import { describe, expect, it } from 'vitest';
import {
  keyContext, keyProblem, MAX_KEY_LENGTH, MAX_PROVIDER_MODEL_LENGTH, MIN_KEY_LENGTH, parseSettings, PROVIDERS, RETRIES, routeProblem, TIMEOUT_MS,
  upstreamProblem,
} from './upstreams.js';

const base = { provider: 'openai', hasKey: true, settings: {}, timeoutMs: TIMEOUT_MS.default, retries: RETRIES.default };

describe('upstreamProblem', () => {
  it('accepts every provider with a key, and openai-compatible without one', () => {
    for (const provider of PROVIDERS) expect(upstreamProblem({ ...base, provider }), provider).toBeUndefined();
    expect(upstreamProblem({ ...base, provider: 'openai-compatible', hasKey: false })).toBeUndefined();
  });

  it('hosted providers need a key', () => {
    for (const provider of ['openai', 'anthropic', 'azure-openai']) {
      expect(upstreamProblem({ ...base, provider, hasKey: false }), provider).toBe(`provider ${provider} needs a key (only openai-compatible upstreams may have none)`);
    }
  });

  it('refuses unknown providers', () => {
    expect(upstreamProblem({ ...base, provider: 'gemini' })).toBe('provider must be one of openai, anthropic, azure-openai, openai-compatible');
    expect(upstreamProblem({ ...base, provider: 'OpenAI' })).toMatch(/^provider must be one of/);
  });

  it('api_version belongs to azure-openai and is a plain token', () => {
    expect(upstreamProblem({ ...base, provider: 'azure-openai', settings: { api_version: '2024-10-21' } })).toBeUndefined();
    expect(upstreamProblem({ ...base, provider: 'azure-openai', settings: { api_version: '2025-04-01-preview' } })).toBeUndefined();
    expect(upstreamProblem({ ...base, provider: 'azure-openai', settings: { api_version: 'preview' } })).toBeUndefined();
    expect(upstreamProblem({ ...base, provider: 'openai', settings: { api_version: '2024-10-21' } })).toBe('api_version is an azure-openai setting');
    for (const bad of ['', '2024-10-21&x=1', '-x', 'a b', 'x'.repeat(41)]) {
      expect(upstreamProblem({ ...base, provider: 'azure-openai', settings: { api_version: bad } }), bad).toMatch(/^api_version must be/);
    }
  });

  it('bounds timeouts and retries exactly', () => {
    expect(upstreamProblem({ ...base, timeoutMs: TIMEOUT_MS.min })).toBeUndefined();
    expect(upstreamProblem({ ...base, timeoutMs: TIMEOUT_MS.max })).toBeUndefined();
    for (const t of [TIMEOUT_MS.min - 1, TIMEOUT_MS.max + 1, 1500.5, 0, -1]) expect(upstreamProblem({ ...base, timeoutMs: t }), String(t)).toBe('timeout_ms must be a whole number from 1000 to 600000');
    expect(upstreamProblem({ ...base, retries: RETRIES.min })).toBeUndefined();
    expect(upstreamProblem({ ...base, retries: RETRIES.max })).toBeUndefined();
    for (const r of [-1, RETRIES.max + 1, 1.5]) expect(upstreamProblem({ ...base, retries: r }), String(r)).toBe('retries must be a whole number from 0 to 5');
  });
});

describe('keyProblem', () => {
  it('accepts printable keys of the allowed length and never names the key', () => {
    expect(keyProblem('sk-proj-abcdefgh')).toBeUndefined();
    expect(keyProblem('x'.repeat(MIN_KEY_LENGTH))).toBeUndefined();
    expect(keyProblem('x'.repeat(MAX_KEY_LENGTH))).toBeUndefined();
    const cases: Array<[string, string]> = [
      ['short', `key must be ${MIN_KEY_LENGTH}-${MAX_KEY_LENGTH} characters`],
      ['x'.repeat(MAX_KEY_LENGTH + 1), `key must be ${MIN_KEY_LENGTH}-${MAX_KEY_LENGTH} characters`],
      ['sk-with space', 'key must be printable ASCII without spaces'],
      ['sk-abc\r\nX-Injected: 1', 'key must be printable ASCII without spaces'],
      ['sk-ключ-abcdef', 'key must be printable ASCII without spaces'],
    ];
    for (const [key, problem] of cases) expect(keyProblem(key)).toBe(problem);
  });
});

describe('routeProblem', () => {
  it('model and endpoint resources are routable; other kinds are not', () => {
    expect(routeProblem({ name: 'gpt', kind: 'model' }, 'gpt-4o')).toBeUndefined();
    expect(routeProblem({ name: 'chat', kind: 'endpoint' }, 'meta-llama/Llama-3.1-8B-Instruct')).toBeUndefined();
    expect(routeProblem({ name: 'kb', kind: 'dataset' }, 'x')).toBe('resource \'kb\' is a dataset; only model and endpoint resources are served by upstreams');
    expect(routeProblem({ name: 'ix', kind: 'vector_index' }, 'x')).toBe('resource \'ix\' is a vector index; only model and endpoint resources are served by upstreams');
    expect(routeProblem({ name: 't', kind: 'tool' }, 'x')).toMatch(/is a tool;/);
  });

  it('provider model ids are printable ASCII without spaces, bounded', () => {
    expect(routeProblem({ name: 'm', kind: 'model' }, 'llama3.1:8b')).toBeUndefined();
    expect(routeProblem({ name: 'm', kind: 'model' }, 'x'.repeat(MAX_PROVIDER_MODEL_LENGTH))).toBeUndefined();
    expect(routeProblem({ name: 'm', kind: 'model' }, '')).toBe(`provider_model must be 1-${MAX_PROVIDER_MODEL_LENGTH} characters`);
    expect(routeProblem({ name: 'm', kind: 'model' }, 'x'.repeat(MAX_PROVIDER_MODEL_LENGTH + 1))).toMatch(/characters$/);
    expect(routeProblem({ name: 'm', kind: 'model' }, 'gpt 4o')).toBe('provider_model must be printable ASCII without spaces');
  });
});

describe('keyContext and settings', () => {
  it('binds the seal to the upstream id', () => {
    expect(keyContext('0190a6f0-0000-7000-8000-000000000001')).toBe('upstream-key:0190a6f0-0000-7000-8000-000000000001');
  });
  it('reads stored settings, dropping what it does not know', () => {
    expect(parseSettings('{}')).toEqual({});
    expect(parseSettings('{"api_version":"2024-10-21","other":1}')).toEqual({ api_version: '2024-10-21' });
    expect(parseSettings('{"api_version":5}')).toEqual({});
  });
});
