import crypto from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Actor } from '../actor.js';
import type { Metrics } from '../metrics.js';
import { requestProvenance } from './pipeline/provenance.js';
import { readCredential } from './pipeline/read-credential.js';
import type { CredentialVerifier } from './pipeline/index.js';

// `GET /metrics` (Prometheus text format) on the control plane and on the gateway. Not public: metrics name
// upstreams and show traffic. Allowed with the configured scrape credential (CUSTOS_METRICS_TOKEN, compared in
// constant time through its SHA-256) or an operator token whose role holds `metrics.read`. Anything else is 401
// with a Bearer challenge; the answer never says which of the two was tried.

export interface MetricsRouteDeps {
  metrics: Metrics;
  scrapeToken: string | undefined;
  /** The control plane's verifier (operator tokens). */
  verify: CredentialVerifier;
  publicUrl(): string;
  authorize(actor: Actor, permission: string): boolean;
}

const digest = (v: string) => crypto.createHash('sha256').update(v).digest();

export function createScrapeCheck(deps: Omit<MetricsRouteDeps, 'metrics'>) {
  const expected = deps.scrapeToken ? digest(deps.scrapeToken) : undefined;
  return async function mayScrape(req: FastifyRequest): Promise<boolean> {
    let presented;
    try {
      presented = readCredential(req, deps.publicUrl());
    } catch {
      return false;
    }
    if (!presented) return false;
    if (expected && presented.scheme === 'bearer' && crypto.timingSafeEqual(digest(presented.token), expected)) return true;
    try {
      const actor = await deps.verify(presented, requestProvenance(req));
      return actor.role !== null && deps.authorize(actor, 'metrics.read');
    } catch {
      return false;
    }
  };
}

/** Either listener: the control plane (zod provider) or the gateway (plain). */
type AnyFastify = FastifyInstance<any, any, any, any, any>;

export function registerMetricsRoute(app: AnyFastify, metrics: Metrics, mayScrape: (req: FastifyRequest) => Promise<boolean>): void {
  app.get('/metrics', { config: { public: true }, schema: { hide: true } }, async (req: FastifyRequest, reply: FastifyReply) => {
    if (!(await mayScrape(req))) {
      return reply.code(401).header('www-authenticate', 'Bearer realm="custos-metrics"').header('x-custos-reason', 'missing_credential').type('application/json')
        .send({ error: 'unauthorized', message: 'metrics need the scrape credential or an operator token with metrics.read' });
    }
    return reply.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
}
