import type { FastifyInstance } from 'fastify';
import type { Dialect, Operation } from './dialects/index.js';
import { anthropic } from './dialects/anthropic.js';
import { openai } from './dialects/openai.js';
import { createModelsHandler } from './models.js';
import { createCallPipeline, type PipelineDeps } from './pipeline.js';
import { protectedResourceMetadata } from './protected-resource.js';

// The model gateway's routes: the providers' own paths, so an SDK works by changing only its base URL. Each runs
// the call pipeline (pipeline.ts); GET /v1/models runs its verify and decide steps (models.ts). MODEL_ROUTES is the
// whole list: tests walk it.

export const MODEL_ROUTES: ReadonlyArray<{ method: 'POST' | 'GET'; url: string; dialect: Dialect; operation: Operation }> = [
  { method: 'POST', url: '/v1/chat/completions', dialect: openai, operation: 'chat.completions' },
  { method: 'POST', url: '/v1/embeddings', dialect: openai, operation: 'embeddings' },
  { method: 'POST', url: '/v1/responses', dialect: openai, operation: 'responses' },
  { method: 'GET', url: '/v1/models', dialect: openai, operation: 'models' },
  { method: 'POST', url: '/v1/messages', dialect: anthropic, operation: 'messages' },
  { method: 'POST', url: '/v1/messages/count_tokens', dialect: anthropic, operation: 'count_tokens' },
];

export function registerModelRoutes(app: FastifyInstance, deps: PipelineDeps & { issuer(): string }): void {
  const handle = createCallPipeline(deps);
  const models = createModelsHandler(deps);
  for (const route of MODEL_ROUTES) {
    if (route.operation === 'models') {
      app.get(route.url, (req, reply) => models(req, reply, req.headers['anthropic-version'] ? anthropic : openai));
    } else {
      app.post(route.url, (req, reply) => handle(req, reply, route.dialect, route.operation));
    }
  }
  // RFC 9728: the model API as a protected resource; its identifier is the gateway's public base URL.
  app.get('/.well-known/oauth-protected-resource', async () => protectedResourceMetadata({
    resource: deps.gatewayUrl(), issuer: deps.issuer(), name: 'Custos model gateway',
  }));
}
