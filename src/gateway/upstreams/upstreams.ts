import { kindPhrase } from '../../platform/text.js';

// The rules of an upstream that do not depend on the store: which providers exist, which need a key, the bounds on
// timeouts and retries, what a provider key and a provider model id may look like, which settings belong to which
// provider, and which registry resources a model alias may name. Pure, with exact tests beside it; the service turns
// a problem into 422 invalid_upstream (the schemas already bound the shapes: a value out of bounds there is 400).
//
// What it guards against:
// - A hosted provider (OpenAI, Anthropic, Azure OpenAI) configured without a key: every call would fail upstream
//   with the provider's 401, far from the change that caused it. Only `openai-compatible` (a local vLLM or Ollama)
//   may go without one.
// - Keys that could split a header: the key goes into `Authorization`/`x-api-key`/`api-key` headers, so it is
//   printable ASCII without spaces (no CR/LF, no header injection), and long enough not to be a typo.
// - A sealed key moved to another row: it is sealed under a context naming the upstream (`upstream-key:<id>`), so a
//   copied `key_sealed` does not open for any other upstream.

export const PROVIDERS = ['openai', 'anthropic', 'azure-openai', 'openai-compatible'] as const;
export type Provider = (typeof PROVIDERS)[number];

/** Providers that may run without a key (local model servers: vLLM, Ollama, llama.cpp, LM Studio, …). */
export const KEYLESS_PROVIDERS: ReadonlySet<Provider> = new Set(['openai-compatible']);

export const TIMEOUT_MS = { min: 1_000, max: 600_000, default: 60_000 } as const;
export const RETRIES = { min: 0, max: 5, default: 1 } as const;

export const MIN_KEY_LENGTH = 8;
export const MAX_KEY_LENGTH = 4096;
/** Printable ASCII without spaces: a key travels in an HTTP header. */
export const KEY_PATTERN = /^[\x21-\x7E]+$/;

export const MAX_PROVIDER_MODEL_LENGTH = 256;
/** Provider model ids (`gpt-4o`, `claude-sonnet-4-5`, `meta-llama/Llama-3.1-8B-Instruct`, `llama3.1:8b`, an Azure deployment). */
export const PROVIDER_MODEL_PATTERN = /^[\x21-\x7E]+$/;

/** Azure OpenAI `api-version` values (`2024-10-21`, `2025-04-01-preview`, `preview`, `latest`). */
export const API_VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/;

/** The registry kinds a model alias may name: what clients send as `model`. */
export const ROUTABLE_KINDS: readonly string[] = ['model', 'endpoint'];

/** At most this many model aliases in one create request (more are added one by one). */
export const MAX_MODELS_PER_REQUEST = 200;

/** Non-secret provider settings, stored as JSON in `upstreams.settings`. */
export interface UpstreamSettings {
  /** Azure OpenAI only: the `api-version` query parameter the forwarding step adds. */
  api_version?: string;
}

/** The additional data a provider key is sealed under: it opens only for this upstream. */
export function keyContext(upstreamId: string): string {
  return `upstream-key:${upstreamId}`;
}

export function isProvider(value: string): value is Provider {
  return (PROVIDERS as readonly string[]).includes(value);
}

/** What is wrong with a provider key, or undefined (the text never contains the key). */
export function keyProblem(key: string): string | undefined {
  if (key.length < MIN_KEY_LENGTH || key.length > MAX_KEY_LENGTH) return `key must be ${MIN_KEY_LENGTH}-${MAX_KEY_LENGTH} characters`;
  if (!KEY_PATTERN.test(key)) return 'key must be printable ASCII without spaces';
  return undefined;
}

/** What is wrong with an upstream as it would be stored, or undefined. */
export function upstreamProblem(u: { provider: string; hasKey: boolean; settings: UpstreamSettings; timeoutMs: number; retries: number }): string | undefined {
  if (!isProvider(u.provider)) return `provider must be one of ${PROVIDERS.join(', ')}`;
  if (!u.hasKey && !KEYLESS_PROVIDERS.has(u.provider)) return `provider ${u.provider} needs a key (only openai-compatible upstreams may have none)`;
  if (u.settings.api_version !== undefined) {
    if (u.provider !== 'azure-openai') return 'api_version is an azure-openai setting';
    if (!API_VERSION_PATTERN.test(u.settings.api_version)) return 'api_version must be letters, digits, dots, underscores and hyphens (e.g. 2024-10-21)';
  }
  if (!Number.isInteger(u.timeoutMs) || u.timeoutMs < TIMEOUT_MS.min || u.timeoutMs > TIMEOUT_MS.max) {
    return `timeout_ms must be a whole number from ${TIMEOUT_MS.min} to ${TIMEOUT_MS.max}`;
  }
  if (!Number.isInteger(u.retries) || u.retries < RETRIES.min || u.retries > RETRIES.max) return `retries must be a whole number from ${RETRIES.min} to ${RETRIES.max}`;
  return undefined;
}

/** What is wrong with routing a resource of `kind` as `providerModel`, or undefined. */
export function routeProblem(resource: { name: string; kind: string }, providerModel: string): string | undefined {
  if (!ROUTABLE_KINDS.includes(resource.kind)) return `resource '${resource.name}' is ${kindPhrase(resource.kind)}; only ${ROUTABLE_KINDS.join(' and ')} resources are served by upstreams`;
  if (providerModel.length < 1 || providerModel.length > MAX_PROVIDER_MODEL_LENGTH) return `provider_model must be 1-${MAX_PROVIDER_MODEL_LENGTH} characters`;
  if (!PROVIDER_MODEL_PATTERN.test(providerModel)) return 'provider_model must be printable ASCII without spaces';
  return undefined;
}

/** Settings as stored (JSON text) → the object; unknown members are dropped. */
export function parseSettings(text: string): UpstreamSettings {
  const raw = JSON.parse(text) as Record<string, unknown>;
  return typeof raw.api_version === 'string' ? { api_version: raw.api_version } : {};
}
