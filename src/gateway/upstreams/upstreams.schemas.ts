import { z } from 'zod';
import { nameSchema } from '../../identity/index.js';
import { paginationQuery } from '../../platform/http/pagination.js';
import { MAX_BASE_URL_LENGTH } from './upstream-url.js';
import {
  API_VERSION_PATTERN, KEY_PATTERN, MAX_KEY_LENGTH, MAX_MODELS_PER_REQUEST, MAX_PROVIDER_MODEL_LENGTH, MIN_KEY_LENGTH, PROVIDER_MODEL_PATTERN, PROVIDERS,
  RETRIES, TIMEOUT_MS,
} from './upstreams.js';

// Request and response shapes of /v1/upstreams; the OpenAPI document is generated from them. Shapes bound every
// field (out of bounds: 400 validation_failed); the rules across fields (a key for hosted providers, api_version
// for Azure only, the base URL rule, routable resources) are the service's (422 invalid_upstream).
//
// The provider key is write-only: it has a place in the create and update bodies and in no response shape, so a
// serialiser can never emit it (responses are checked against these schemas); views say only `has_key`.

const reason = z.string().min(1).max(1000).optional().describe('Why: recorded in the audit log');
const ref = z.string().min(1).max(200).describe('id or name');
const provider = z.enum(PROVIDERS)
  .describe('openai, anthropic, azure-openai, or openai-compatible (vLLM, Ollama, llama.cpp, LM Studio, any server speaking the OpenAI API)');
const baseUrl = z.string().min(1).max(MAX_BASE_URL_LENGTH)
  .describe('Where calls go, e.g. https://api.openai.com/v1: https, or plain http only to a loopback or private address (127.0.0.0/8, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, [::1], fc00::/7, localhost); no user information, query or fragment. Stored normalised, without trailing slashes');
const key = z.string().min(MIN_KEY_LENGTH).max(MAX_KEY_LENGTH).regex(KEY_PATTERN, 'printable ASCII without spaces')
  .describe(`The provider API key, ${MIN_KEY_LENGTH}-${MAX_KEY_LENGTH} printable characters. Write-only: sealed with the master key, never returned, logged or audited`);
const apiVersion = z.string().regex(API_VERSION_PATTERN, 'letters, digits, dots, underscores and hyphens, at most 40')
  .describe('Azure OpenAI only: the api-version the gateway sends (e.g. 2024-10-21)');
const timeoutMs = z.number().int().min(TIMEOUT_MS.min).max(TIMEOUT_MS.max)
  .describe(`How long one attempt may take, in milliseconds (${TIMEOUT_MS.min}-${TIMEOUT_MS.max})`);
const retries = z.number().int().min(RETRIES.min).max(RETRIES.max)
  .describe(`How many times a failed attempt is retried (${RETRIES.min}-${RETRIES.max})`);
const providerModel = z.string().min(1).max(MAX_PROVIDER_MODEL_LENGTH).regex(PROVIDER_MODEL_PATTERN, 'printable ASCII without spaces')
  .describe('The provider\'s own model id (or Azure deployment name) the gateway sends upstream');

export const createUpstreamBody = z.strictObject({
  name: nameSchema,
  provider,
  base_url: baseUrl,
  key: key.optional().describe('The provider API key (write-only). Needed by openai, anthropic and azure-openai; optional for openai-compatible'),
  api_version: apiVersion.optional(),
  timeout_ms: timeoutMs.optional().describe(`Default ${TIMEOUT_MS.default}`),
  retries: retries.optional().describe(`Default ${RETRIES.default}`),
  models: z.record(ref, providerModel)
    .refine((m) => Object.keys(m).length <= MAX_MODELS_PER_REQUEST, `at most ${MAX_MODELS_PER_REQUEST} models in one request`)
    .optional()
    .describe('Model aliases: a model (or endpoint) resource of the registry, by id or name → the provider\'s model id. Clients send the resource\'s name as `model`'),
  reason,
});
export type CreateUpstreamInput = z.infer<typeof createUpstreamBody>;

export const updateUpstreamBody = z.strictObject({
  provider: provider.optional(),
  base_url: baseUrl.optional(),
  key: key.optional().describe('A new provider key (write-only): the next call uses it; nothing changes on any client'),
  remove_key: z.literal(true).optional().describe('Forget the stored key (openai-compatible upstreams only)'),
  api_version: apiVersion.nullable().optional().describe('Azure OpenAI only; null removes it'),
  timeout_ms: timeoutMs.optional(),
  retries: retries.optional(),
  expected_version: z.number().int().min(1).optional().describe('Optimistic concurrency: refuse (409 version_mismatch) if the upstream changed since'),
  reason,
});
export type UpdateUpstreamInput = z.infer<typeof updateUpstreamBody>;

export const routeModelBody = z.strictObject({ provider_model: providerModel, reason });
export type RouteModelInput = z.infer<typeof routeModelBody>;

export const upstreamRefParams = z.strictObject({ ref: ref.describe('the upstream: id or name') });
export const modelRouteParams = z.strictObject({
  ref: ref.describe('the upstream: id or name'),
  resource: ref.describe('the model resource: id or name'),
});
export const listUpstreamsQuery = z.strictObject({ ...paginationQuery, provider: provider.optional().describe('Only upstreams of this provider') });
export type ListUpstreamsQuery = z.infer<typeof listUpstreamsQuery>;
export const deleteUpstreamQuery = z.strictObject({
  reason,
  unroute_models: z.enum(['true', 'false']).optional()
    .describe('true: also remove the model aliases it serves (those models stop being served); without it an upstream that serves models is not deleted'),
});
export const unrouteQuery = z.strictObject({ reason });

export const routedModelSchema = z.object({
  resource: z.object({ id: z.string(), name: z.string(), kind: z.string() }),
  provider_model: z.string(),
  routed_at: z.string(),
});
export type RoutedModelView = z.infer<typeof routedModelSchema>;

export const upstreamSchema = z.object({
  id: z.string(),
  name: z.string(),
  provider: provider,
  base_url: z.string(),
  api_version: z.string().nullable(),
  timeout_ms: z.number().int(),
  retries: z.number().int(),
  has_key: z.boolean().describe('Whether a provider key is stored (the key itself is never returned)'),
  models: z.array(routedModelSchema).describe('The model resources this upstream serves, by resource name'),
  created_at: z.string(),
  created_by: z.string().nullable(),
  updated_at: z.string(),
  version: z.number().int(),
});
export type UpstreamView = z.infer<typeof upstreamSchema>;
