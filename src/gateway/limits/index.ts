// The limits part of the gateway module: limits and budgets per principal, team and resource (/v1/limits), and the
// enforcer the call pipeline reserves through before forwarding and settles with after (enforcer.ts). Counters are
// behind the CounterStore interface (counters.ts): in memory on one node today. Rules and API: docs/limits.md.
import type { GatewayPart, GatewayPartContext } from '../parts.js';
import { createMemoryCounterStore, type CounterStore } from './counters.js';
import { createLimitEnforcer, DEFAULT_RESERVATION_TTL_MS, type LimitEnforcer } from './enforcer.js';
import type { AppliedLimit } from './limits.js';
import * as repo from './limits.repo.js';
import { registerLimitRoutes } from './limits.routes.js';
import { createLimitService } from './limits.service.js';
import type { LimitTargets } from './ports.js';
import { identityLimitTargets } from './targets.js';

export type { LimitCall, LimitEnforcer, RefusedLimit, Reservation, ReserveOutcome } from './enforcer.js';
export type { CounterCharge, CounterHold, CounterReserveResult, CounterStore } from './counters.js';
export { createMemoryCounterStore } from './counters.js';
export type { LimitTarget, LimitTargets } from './ports.js';
export { METRICS, TARGET_KINDS, type Metric, type TargetKind, type WindowKind } from './limits.js';
export type { LimitView } from './limits.schemas.js';

const KIND_ORDER = { principal: 0, team: 1, resource: 2 } as const;

export interface LimitsPartOptions {
  /** The registry port (default: identity's public surface, identityLimitTargets). */
  limitTargets?: LimitTargets;
  /** Where counts are kept (default: this process's memory). */
  counters?: CounterStore;
  /** How long a reservation holds its tokens without a settle (default 10 minutes; keep it above the upstream timeout). */
  reservationTtlMs?: number;
}

/** What the part is built from: the gateway's part context (it uses the store, audit writer, clock and ids) and options. */
export type LimitsPartContext = Pick<GatewayPartContext, 'db' | 'audit' | 'clock' | 'newId'> & LimitsPartOptions;

export function createLimitsPart(ctx: LimitsPartContext): GatewayPart & LimitEnforcer {
  const { db, audit, clock, newId } = ctx;
  const ttl = ctx.reservationTtlMs ?? DEFAULT_RESERVATION_TTL_MS;
  const counters = ctx.counters ?? createMemoryCounterStore({ lateSettleMs: ttl });
  const targets = ctx.limitTargets ?? identityLimitTargets({ db, audit, clock, newId });
  const service = createLimitService({ db, audit, clock, newId, targets, counters });
  const enforcer = createLimitEnforcer({
    counters, clock, newId, reservationTtlMs: ttl,
    async limitsFor(call): Promise<AppliedLimit[]> {
      // In a fixed order (principal, teams, resource; then by id), so the refusal reported among equals is always the same.
      const rows = (await repo.limitsFor(db.kysely, call))
        .sort((a, b) => KIND_ORDER[a.target_kind] - KIND_ORDER[b.target_kind] || (a.target_id < b.target_id ? -1 : a.target_id > b.target_id ? 1 : 0));
      return rows.map((r) => ({
        target: { kind: r.target_kind, id: r.target_id },
        values: { requests_per_minute: r.requests_per_minute, tokens_per_minute: r.tokens_per_minute, tokens_per_day: r.tokens_per_day, tokens_per_month: r.tokens_per_month },
      }));
    },
  });
  return {
    registerRoutes: (app) => registerLimitRoutes(app, service),
    reserve: (call) => enforcer.reserve(call),
    settle: (reservation, usedTokens) => enforcer.settle(reservation, usedTokens),
    release: (reservation) => enforcer.release(reservation),
  };
}
