import { z } from 'zod';
import type { HttpApp } from './app.js';

// Liveness and readiness probes. Readiness is the conjunction of checks that the modules owning each part
// contribute (the store here; audit writes and checkpoints from audit/): red if any one is red.

export type HealthCheck = () => { ok: boolean; detail?: string } | Promise<{ ok: boolean; detail?: string }>;

const readySchema = z.object({ status: z.enum(['ready', 'not_ready']), checks: z.record(z.string(), z.object({ ok: z.boolean(), detail: z.string().optional() })) });

export function registerHealthRoutes(app: HttpApp, checks: Record<string, HealthCheck>): void {
  // Probes poll every few seconds: keep them out of the request log.
  app.get('/healthz', { logLevel: 'warn', config: { public: true }, schema: { tags: ['health'], summary: 'Liveness', security: [], response: { 200: z.object({ status: z.literal('ok') }) } } },
    async () => ({ status: 'ok' as const }));
  app.get('/readyz', { logLevel: 'warn', config: { public: true }, schema: { tags: ['health'], summary: 'Readiness: store reachable and writable, keys unsealed, audit log writable and intact', security: [], response: { 200: readySchema, 503: readySchema } } },
    async (_req, reply) => {
      const results: Record<string, { ok: boolean; detail?: string }> = {};
      for (const [name, check] of Object.entries(checks)) {
        const r = await check();
        results[name] = r.detail ? { ok: r.ok, detail: r.detail } : { ok: r.ok };
      }
      const ok = Object.values(results).every((c) => c.ok);
      return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not_ready', checks: results });
    });
}
