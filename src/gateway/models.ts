import type { FastifyReply, FastifyRequest } from 'fastify';
import { GatewayRefusal, type GatewayCall } from './call.js';
import type { Dialect } from './dialects/index.js';
import { refuse, type PipelineDeps } from './pipeline.js';
import { context } from './steps/context.js';
import { verify } from './steps/verify.js';

// `GET /v1/models`: the models this caller may invoke — every model resource an upstream serves that the decision
// point allows it to `invoke` now, with the same facts a call would carry (so a model outside the token's purpose
// is not listed). Verified like every call; the listing is recorded as one `gateway.models_listed` event. Answered
// in OpenAI's list shape, or Anthropic's when the client sent `anthropic-version` (the Anthropic SDK does).

export function createModelsHandler(deps: PipelineDeps) {
  return async function models(req: FastifyRequest, reply: FastifyReply, dialect: Dialect): Promise<void> {
    const call = { req, reply, dialect, operation: 'models', startedAt: performance.now(), timings: {} } as GatewayCall;
    try {
      await verify(call, deps);
      await context(call, deps);
      const actor = call.actor!;
      const allowed: Array<{ id: string; name: string; upstream: string }> = [];
      for (const m of await deps.catalog.modelsServed()) {
        const d = await deps.pdp.evaluate({
          principal: actor.principal!.id, action: 'invoke', resource: { kind: 'registry', ref: m.resource.id }, facts: call.facts!, requestId: String(req.id),
        });
        if (d.decision === 'allow') allowed.push({ id: m.resource.id, name: m.resource.name, upstream: m.upstream });
      }
      await deps.db.write((trx, batch) => deps.audit.record(trx, batch, {
        type: 'gateway.models_listed', actor, action: 'invoke', purpose: actor.purpose, outcome: 'success',
        details: { api: dialect.api, models: allowed.map((m) => m.name).slice(0, 500), count: allowed.length, request_id: String(req.id) },
      }));
      deps.metrics.call(dialect.api, 'allowed', 'models');
      const created = 0;
      const body = dialect.api === 'anthropic'
        ? {
          data: allowed.map((m) => ({ type: 'model', id: m.name, display_name: m.name, created_at: new Date(created).toISOString() })),
          has_more: false, first_id: allowed[0]?.name ?? null, last_id: allowed.at(-1)?.name ?? null,
        }
        : { object: 'list', data: allowed.map((m) => ({ id: m.name, object: 'model', created, owned_by: m.upstream })) };
      await reply.header('server-timing', `custos;dur=${(performance.now() - call.startedAt).toFixed(3)}`).send(body);
    } catch (error) {
      if (!(error instanceof GatewayRefusal)) throw error;
      deps.metrics.call(dialect.api, 'denied', error.code);
      refuse(reply, req, dialect, call.startedAt, error);
    }
  };
}
