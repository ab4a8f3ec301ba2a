import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Dispatcher } from 'undici';
import type { AuditWriter } from '../audit/index.js';
import type { Pdp } from '../authz/index.js';
import type { CredentialVerifier } from '../platform/http/pipeline/index.js';
import type { Logger } from '../platform/logger.js';
import type { Metrics, PipelineStep } from '../platform/metrics.js';
import type { Database } from '../platform/store/db.js';
import { GatewayRefusal, type GatewayCall } from './call.js';
import type { Dialect, Operation } from './dialects/index.js';
import type { CompletionQueue } from './completions.js';
import type { LimitEnforcer } from './limits/enforcer.js';
import { serverTiming } from './server-timing.js';
import { context } from './steps/context.js';
import { decide } from './steps/decide.js';
import { forward } from './steps/forward.js';
import { limits } from './steps/limits.js';
import { outcome } from './steps/outcome.js';
import { parse } from './steps/parse.js';
import { commitCall, record } from './steps/record.js';
import { verify } from './steps/verify.js';
import type { UpstreamCatalog } from './upstreams/catalog.js';

// A governed model call, top to bottom. Every route of the model gateway runs this table; there is no other way
// from a client to an upstream.
//
//   verify   the caller's credential, addressed to this gateway (401 with a challenge otherwise) — first, so a
//            caller that is not authenticated learns nothing about the route's input (a 401 before any 400)
//   parse    the body, in the provider's format: model, stream, the most tokens the call can use
//   context  the facts the decision uses, from the credential and the connection only
//   decide   the model's route, and the decision point's `invoke` decision (prepared, not yet committed)
//   limits   reserve the call's maximum against every limit in force
//   record   commit the decision and the call's record together; the commit runs while the call is forwarded
//   forward  to the upstream with its own key; the answer (or the stream) back — only once the record is durable
//   outcome  settle the limits on the usage, record how the call ended (after the answer)
//
// A step refuses by throwing GatewayRefusal: once the caller is known (after verify) the refusal is recorded with
// the decision, if one was made, before it is answered in the provider's error shape with the Custos reason code
// (body and `x-custos-reason`). Any other failure is 503 gateway_unavailable: nothing is answered unrecorded.

export type Step = (call: GatewayCall, deps: PipelineDeps) => Promise<void>;

export interface PipelineDeps {
  db: Database;
  audit: AuditWriter;
  logger: Logger;
  metrics: Metrics;
  gatewayUrl(): string;
  verifier: CredentialVerifier;
  pdp: Pick<Pdp, 'prepareDecision' | 'evaluate'>;
  catalog: UpstreamCatalog;
  limits: LimitEnforcer;
  /** Keep-alive connections to upstreams. */
  http: Dispatcher;
  hashContent: boolean;
  /** Completion events, written with the next commit. */
  completions: CompletionQueue;
}

export const STEPS: ReadonlyArray<readonly [PipelineStep, Step]> = [
  ['verify', verify],
  ['parse', parse],
  ['context', context],
  ['decide', decide],
  ['limits', limits],
  ['record', record],
  ['forward', forward],
];

/** Answers a refusal in the dialect's error shape. */
export function refuse(reply: FastifyReply, req: FastifyRequest, dialect: Dialect, startedAt: number, refusal: GatewayRefusal): FastifyReply {
  return reply.code(refusal.status).headers({
    ...refusal.headers, 'x-custos-reason': refusal.code, 'server-timing': serverTiming({ startedAt }),
  }).send(dialect.errorBody(refusal.status, refusal.code, refusal.message));
}

export function createCallPipeline(deps: PipelineDeps) {
  return async function handle(req: FastifyRequest, reply: FastifyReply, dialect: Dialect, operation: Operation): Promise<void> {
    const call = { req, reply, dialect, operation, startedAt: performance.now(), timings: {} } as GatewayCall;
    let current: PipelineStep = 'parse';
    try {
      for (const [name, step] of STEPS) {
        current = name;
        const t = performance.now();
        await step(call, deps);
        const ms = performance.now() - t;
        call.timings[name] = ms;
        // The record step's commit runs on while forwarding: it reports its own duration when it completes.
        if (name !== 'record') deps.metrics.step(name, ms / 1000);
      }
      deps.metrics.call(dialect.api, 'allowed', 'ok');
    } catch (caught) {
      let error = caught;
      // A refusal of a forwarded call (the upstream was unreachable) is answered only once the call's record is durable.
      if (call.recorded) {
        try {
          await call.recorded;
        } catch (recordError) {
          error = recordError;
        }
      }
      const refusal = error instanceof GatewayRefusal ? error : undefined;
      if (call.clientAborted) {
        deps.metrics.call(dialect.api, 'aborted', 'client_aborted');
      } else if (!refusal) {
        deps.logger.error({ err: error, step: current, request_id: req.id }, 'gateway call failed');
        deps.metrics.call(dialect.api, 'failed', 'gateway_unavailable');
        if (!reply.sent && !reply.raw.headersSent) {
          refuse(reply, req, dialect, call.startedAt, new GatewayRefusal(503, 'gateway_unavailable', 'the gateway could not complete the call; nothing is answered unrecorded'));
        } else if (!reply.raw.destroyed) reply.raw.destroy();
      } else {
        deps.metrics.call(dialect.api, refusal.status === 429 ? 'limited' : refusal.status >= 500 ? 'failed' : 'denied', refusal.code);
        // Once the caller is known, a refusal before forwarding is recorded (with its decision) before it is answered.
        let answer = refusal;
        // (Once the record step ran, the call's record holds it: nothing more to commit.)
        if (call.actor && !call.recorded) {
          try {
            await commitCall(call, deps, { code: refusal.code, status: refusal.status, message: refusal.message });
          } catch (recordError) {
            deps.logger.error({ err: recordError, request_id: req.id }, 'gateway refusal could not be recorded');
            answer = new GatewayRefusal(503, 'gateway_unavailable', 'the refusal could not be recorded');
          }
        }
        if (!reply.sent && !reply.raw.headersSent) refuse(reply, req, dialect, call.startedAt, answer);
      }
    } finally {
      if (call.callEventId) {
        const t = performance.now();
        try {
          await outcome(call, deps);
        } catch (error) {
          deps.logger.error({ err: error, request_id: req.id }, 'gateway call outcome could not be recorded');
        }
        deps.metrics.step('outcome', (performance.now() - t) / 1000);
      } else if (call.reservation) {
        await deps.limits.release(call.reservation).catch(() => undefined);
      }
    }
  };
}
