import type { AuditWriter } from '../../audit/index.js';
import type { Actor } from '../../platform/actor.js';
import type { Clock } from '../../platform/clock.js';
import { AppError, errors } from '../../platform/http/errors.js';
import { decodeCursor, pageOf } from '../../platform/http/pagination.js';
import { isUuid, type IdGenerator } from '../../platform/ids.js';
import type { Database, Trx, WriteBatch } from '../../platform/store/db.js';
import type { GatewayLimitsTable } from '../../platform/store/schema.js';
import type { CounterStore } from './counters.js';
import { changeProblem, counterKey, limitProblem, mergeLimits, METRIC_RULES, METRICS, windowOf, type LimitValues, type TargetKind } from './limits.js';
import * as repo from './limits.repo.js';
import type { ListLimitsQuery, LimitView, LimitWithUsageView, SetLimitInput } from './limits.schemas.js';
import type { LimitTarget, LimitTargets } from './ports.js';

// The use cases behind /v1/limits: set (create or change), list, show with this node's usage, remove. Admins and
// security change limits (`limit.write`), auditors read them too (`limit.read`); the role table decides.
//
// Rules:
// - A limit is addressed by its target: one row per principal, team or resource (the store's unique index). The
//   target must exist (the LimitTargets port): 422 invalid_limit on set, 404 not_found on show and remove. A limit
//   whose target was deleted since is inert (ids are never reused); it is listed without a name and can still be
//   shown and removed by the target's id.
// - Set merges: an absent value is kept, null clears it, a number (1…2,147,483,647) sets it; at least one value
//   must be given and one must remain (else 422 invalid_limit: removing is DELETE).
// - Every change is audited in its transaction: `limit.set` (before: null when created) and `limit.removed`, each
//   with the values before and after and the reason. The audit target is the limited principal, team or resource.
// - Nothing is cached: the enforcer reads the row on the next call, so a change applies to it.

export interface LimitServiceDeps {
  db: Database;
  audit: AuditWriter;
  clock: Clock;
  newId: IdGenerator;
  targets: LimitTargets;
  counters: CounterStore;
}

const valuesOf = (row: GatewayLimitsTable): LimitValues => ({
  requests_per_minute: row.requests_per_minute, tokens_per_minute: row.tokens_per_minute, tokens_per_day: row.tokens_per_day, tokens_per_month: row.tokens_per_month,
});

function view(row: GatewayLimitsTable, name: string | null): LimitView {
  return {
    id: row.id, target: { kind: row.target_kind, id: row.target_id, name }, ...valuesOf(row),
    created_at: row.created_at, updated_at: row.updated_at, updated_by: row.updated_by,
  };
}

export function createLimitService(deps: LimitServiceDeps) {
  const { db, audit, clock, newId, targets, counters } = deps;

  async function target(kind: TargetKind, ref: string, missing: 'invalid_limit' | 'not_found'): Promise<LimitTarget> {
    const t = await targets.find(kind, ref);
    if (!t) throw missing === 'not_found' ? errors.notFound(kind, ref) : new AppError('invalid_limit', `${kind} '${ref}' does not exist`);
    return t;
  }

  /** The target and its limit. A limit whose target was deleted since stays addressable by the target's id. */
  async function found(trx: Trx | undefined, kind: TargetKind, ref: string): Promise<{ t: { id: string; name: string | null }; row: GatewayLimitsTable }> {
    const t: { id: string; name: string | null } | undefined = (await targets.find(kind, ref)) ?? (isUuid(ref) ? { id: ref, name: null } : undefined);
    const row = t ? await repo.findLimit(trx ?? db.kysely, kind, t.id) : undefined;
    if (!t || (!row && t.name === null)) throw errors.notFound(kind, ref);
    if (!row) throw new AppError('not_found', `no limit is set on ${kind} '${t.name}'`);
    return { t, row };
  }

  async function record(trx: Trx, batch: WriteBatch, actor: Actor, type: 'set' | 'removed', t: { kind: TargetKind; id: string; name: string | null }, details: Record<string, unknown>) {
    await audit.record(trx, batch, {
      type: `limit.${type}`, action: `limit.${type}`, actor, target: { type: t.kind, id: t.id, name: t.name }, outcome: 'success', details,
    });
  }

  return {
    async set(actor: Actor, kind: TargetKind, ref: string, input: SetLimitInput): Promise<{ limit: LimitView; created: boolean }> {
      const { reason, ...change } = input;
      // Values first (nothing to look up), then the target, then the merge against the row in the write's transaction.
      const shape = changeProblem(change);
      if (shape) throw new AppError('invalid_limit', shape);
      const t = await target(kind, ref, 'invalid_limit');
      return db.write(async (trx, batch) => {
        const before = await repo.findLimit(trx, kind, t.id);
        const after = mergeLimits(before ? valuesOf(before) : null, change);
        const problem = limitProblem(change, after);
        if (problem) throw new AppError('invalid_limit', problem);
        const now = clock.now().toISOString();
        const by = actor.principal?.id ?? null;
        let row: GatewayLimitsTable;
        if (before) {
          row = { ...before, ...after, updated_at: now, updated_by: by };
          await repo.updateLimit(trx, before.id, { ...after, updated_at: now, updated_by: by });
        } else {
          row = { id: newId(), target_kind: kind, target_id: t.id, ...after, created_at: now, updated_at: now, updated_by: by };
          await repo.insertLimit(trx, row);
        }
        await record(trx, batch, actor, 'set', { kind, ...t }, { limit_id: row.id, before: before ? valuesOf(before) : null, after, reason });
        return { limit: view(row, t.name), created: !before };
      });
    },

    async list(query: ListLimitsQuery) {
      const after = decodeCursor(query.cursor);
      const rows = await repo.listLimits(db.kysely, { kind: query.kind, afterId: after === undefined ? undefined : String(after), limit: query.limit + 1 });
      const page = pageOf(rows, query.limit, (r) => r.id);
      const names = new Map<string, string>();
      for (const kind of new Set(page.items.map((r) => r.target_kind))) {
        for (const [id, name] of await targets.names(kind, page.items.filter((r) => r.target_kind === kind).map((r) => r.target_id))) names.set(`${kind}:${id}`, name);
      }
      return { items: page.items.map((r) => view(r, names.get(`${r.target_kind}:${r.target_id}`) ?? null)), next_cursor: page.next_cursor };
    },

    async get(kind: TargetKind, ref: string): Promise<LimitWithUsageView> {
      const { t, row } = await found(undefined, kind, ref);
      const now = clock.now().getTime();
      const set = METRICS.filter((m) => row[m] !== null);
      const windows = set.map((m) => ({ metric: m, window: windowOf(METRIC_RULES[m].window, now) }));
      const keys = windows.map((w) => counterKey({ kind, id: t.id }, w.metric, w.window));
      const used = await counters.read(keys, now);
      return {
        ...view(row, t.name),
        usage: windows.map((w, i) => ({ metric: w.metric, limit: row[w.metric]!, used: used.get(keys[i]!) ?? 0, window: w.window.kind, resets_at: new Date(w.window.end).toISOString() })),
      };
    },

    async remove(actor: Actor, kind: TargetKind, ref: string, reason: string): Promise<void> {
      // The target is resolved before the write job (the port reads outside it), the row again inside it.
      const { t } = await found(undefined, kind, ref);
      await db.write(async (trx, batch) => {
        const row = await repo.findLimit(trx, kind, t.id);
        if (!row) throw new AppError('not_found', `no limit is set on ${kind} '${t.name ?? t.id}'`);
        await repo.deleteLimit(trx, row.id);
        await record(trx, batch, actor, 'removed', { kind, ...t }, { limit_id: row.id, before: valuesOf(row), after: null, reason });
      });
    },
  };
}

export type LimitService = ReturnType<typeof createLimitService>;
