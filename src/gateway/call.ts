import type { FastifyReply, FastifyRequest } from 'fastify';
import type { PreparedDecision, RequestFacts } from '../authz/index.js';
import type { Actor } from '../platform/actor.js';
import type { PipelineStep } from '../platform/metrics.js';
import type { Dialect, Operation } from './dialects/index.js';
import type { Reservation } from './limits/enforcer.js';
import type { UpstreamRoute } from './upstreams/catalog.js';

// The state of one governed call as it moves through the pipeline (pipeline.ts): each step reads what the steps
// before it set and adds its own part. Nothing here is shared between calls.

export interface GatewayCall {
  req: FastifyRequest;
  reply: FastifyReply;
  dialect: Dialect;
  operation: Operation;
  /** performance.now() when the request reached the handler. */
  startedAt: number;
  /** Milliseconds per step, for Server-Timing and the step histograms. */
  timings: Partial<Record<PipelineStep, number>>;

  // parse
  body: Record<string, unknown>;
  /** What the client sent as `model`: a registry resource's name (or id). */
  model: string;
  stream: boolean;
  /** The most tokens the call can use, prompt included: what token limits reserve. */
  maxTokens: number;

  // verify, context
  actor?: Actor;
  facts?: RequestFacts;

  // decide
  route?: UpstreamRoute;
  decision?: PreparedDecision;

  // limits
  reservation?: Reservation;

  // record
  /** The commit of the decision and the call event, under way while the call is forwarded. */
  recorded?: Promise<void>;
  callEventId?: string;

  // forward, outcome
  /** The request was handed to the upstream connection (it may have been served even if no answer came back). */
  sentUpstream?: boolean;
  upstreamStatus?: number;
  usage?: { inputTokens: number | null; outputTokens: number | null };
  /** SHA-256 (hex) of the completion text, when content hashing is on. */
  completionSha256?: string | null;
  /** The client went away before the answer was complete (the upstream request was cancelled). */
  clientAborted?: boolean;
  upstreamError?: string;
}

/** Why the gateway refuses a call: answered in the provider's own error shape, with a stable Custos reason code. */
export class GatewayRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}
