import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

// The server's Prometheus metrics (prom-client), one registry per control plane, served at /metrics on the control
// plane and on the gateway (an operator token with audit.read, or the configured scrape credential). Label values
// are always from small fixed sets (an outcome, a reason code, a step name, an upstream's name): never a principal,
// a model a client typed, or anything else a caller controls without bound.

export const PIPELINE_STEPS = ['parse', 'verify', 'context', 'decide', 'limits', 'record', 'forward', 'outcome'] as const;
export type PipelineStep = (typeof PIPELINE_STEPS)[number];

export interface Metrics {
  readonly registry: Registry;
  /** A gateway call ended: which API (openai, anthropic, mcp), its outcome (allowed, denied, limited, failed) and reason code. */
  call(api: string, outcome: string, reason: string): void;
  /** A decision of the decision point, by outcome and first reason kind. */
  decision(outcome: 'allow' | 'deny', reason: string): void;
  /** Seconds one step of the call pipeline took. */
  step(step: PipelineStep, seconds: number): void;
  /** A call refused by a limit, by metric (requests_per_minute, tokens_per_day, …). */
  limitHit(metric: string): void;
  /** An upstream answered (status class 2xx/4xx/5xx) or failed (error), and how long it took to answer. */
  upstream(upstream: string, status: string, seconds: number): void;
  /** A group-committed write finished: how long its commit took and how many writes were waiting behind it. */
  commit(seconds: number, queued: number): void;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'custos_process_' });
  const calls = new Counter({ name: 'custos_gateway_requests_total', help: 'Gateway calls by API, outcome and reason', labelNames: ['api', 'outcome', 'reason'], registers: [registry] });
  const decisions = new Counter({ name: 'custos_decisions_total', help: 'Gateway decisions by outcome and reason', labelNames: ['decision', 'reason'], registers: [registry] });
  const steps = new Histogram({
    name: 'custos_gateway_step_seconds', help: 'Time spent in each step of the gateway call pipeline', labelNames: ['step'], registers: [registry],
    buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 30],
  });
  const limitHits = new Counter({ name: 'custos_gateway_limit_hits_total', help: 'Calls refused by a limit, by metric', labelNames: ['metric'], registers: [registry] });
  const upstreamCalls = new Counter({ name: 'custos_upstream_requests_total', help: 'Upstream answers by upstream and status class', labelNames: ['upstream', 'status'], registers: [registry] });
  const upstreamLatency = new Histogram({
    name: 'custos_upstream_latency_seconds', help: 'Time until an upstream answered (headers)', labelNames: ['upstream'], registers: [registry],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  });
  const commitLatency = new Histogram({
    name: 'custos_audit_commit_seconds', help: 'Commit latency of group-committed writes (each carries its audit events)', registers: [registry],
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
  });
  const queueDepth = new Gauge({ name: 'custos_audit_queue_depth', help: 'Writes (and their audit events) waiting for the next group commit', registers: [registry] });
  return {
    registry,
    call: (api, outcome, reason) => calls.inc({ api, outcome, reason }),
    decision: (decision, reason) => decisions.inc({ decision, reason }),
    step: (step, seconds) => steps.observe({ step }, seconds),
    limitHit: (metric) => limitHits.inc({ metric }),
    upstream(upstream, status, seconds) {
      upstreamCalls.inc({ upstream, status });
      if (status !== 'error') upstreamLatency.observe({ upstream }, seconds);
    },
    commit(seconds, queued) {
      commitLatency.observe(seconds);
      queueDepth.set(queued);
    },
  };
}
