import type { AuditWriter } from '../../audit/index.js';
import type { Actor } from '../../platform/actor.js';
import type { Clock } from '../../platform/clock.js';
import { AppError, errors } from '../../platform/http/errors.js';
import { decodeCursor, pageOf } from '../../platform/http/pagination.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { Database } from '../../platform/store/db.js';
import type { DevicesTable } from '../../platform/store/schema.js';
import * as repo from './devices.repo.js';
import { DEFAULT_VALID_FOR_SECONDS, type DeviceView, type ListDevicesQuery, type ReportDeviceInput } from './devices.schemas.js';

// Device records: what an MDM or EDR integration reports about a device and the principal using it, kept for a
// bounded time. A decision uses one only when the request presents that device id, the record is the acting
// principal's, and it has not expired (posture.ts).
//
// Rules:
// - Reporting is an upsert by device_id: the first report creates the record, later ones replace posture,
//   principal, details and validity (a device handed to someone else moves with the report). Every report and
//   removal is audited in the same transaction (`device.reported` with the previous posture and principal,
//   `device.removed`).
// - The principal must exist (id or name). valid_for_seconds is bounded (60 s to 7 days, default 1 day); the record
//   stops counting at valid_until, whether or not anyone removes it.
// - Who may report or remove: the route's permission (device.write) AND, here, an operator role (admin, security) or
//   a caller principal of kind service_account (the MDM/EDR integration whose token holds `devices:write`). Any other
//   principal is refused (403) whatever scopes its token carries: an agent, a workload or a person holding the scope
//   would otherwise forge the posture the guardrails trust, for anyone. reported_by names the reporting principal.

/** How this part finds principals: by id or name (the authz module passes its entity snapshot). */
export interface DevicePrincipals {
  principal(ref: string): Promise<{ id: string; name: string } | undefined>;
}

export interface DeviceServiceDeps {
  db: Database;
  audit: AuditWriter;
  clock: Clock;
  newId: IdGenerator;
  principals: DevicePrincipals;
}

/** Operators, or an integration's service account: nobody else reports or removes posture (F6). */
export function requireReporter(actor: Actor): void {
  if (actor.role !== null) return;
  if (actor.principal?.kind === 'service_account') return;
  throw errors.forbidden('device posture is reported by operators or by an MDM/EDR integration\'s service account; '
    + `a principal of kind '${actor.principal?.kind ?? 'none'}' cannot report or remove it, whatever scopes its token holds`);
}

export function createDeviceService(deps: DeviceServiceDeps) {
  const { db, audit, clock, newId, principals } = deps;

  async function views(rows: DevicesTable[]): Promise<DeviceView[]> {
    const now = clock.now().getTime();
    const names = new Map<string, string>();
    for (const id of new Set(rows.map((r) => r.principal_id).filter((x): x is string => x !== null))) {
      names.set(id, (await principals.principal(id))?.name ?? id);
    }
    return rows.map((row) => ({
      id: row.id, device_id: row.device_id,
      principal: row.principal_id ? { id: row.principal_id, name: names.get(row.principal_id) ?? row.principal_id } : null,
      posture: row.posture, details: JSON.parse(row.details) as DeviceView['details'], reported_at: row.reported_at,
      reported_by: row.reported_by, valid_until: row.valid_until, current: Date.parse(row.valid_until) > now,
    }));
  }

  async function principalOf(ref: string): Promise<{ id: string; name: string }> {
    const p = await principals.principal(ref);
    if (!p) throw new AppError('principal_not_found', `principal '${ref}' does not exist`);
    return p;
  }

  return {
    /** The record of `deviceId`, for decisions (no view, no names). */
    lookup: (deviceId: string) => repo.findDevice(db.kysely, deviceId),

    async report(actor: Actor, input: ReportDeviceInput): Promise<{ created: boolean; device: DeviceView }> {
      requireReporter(actor);
      const principal = await principalOf(input.principal);
      const now = clock.now();
      const validFor = input.valid_for_seconds ?? DEFAULT_VALID_FOR_SECONDS;
      const fields = {
        principal_id: principal.id, posture: input.posture, details: JSON.stringify(input.details ?? {}), reported_at: now.toISOString(),
        reported_by: actor.principal?.id ?? null, valid_until: new Date(now.getTime() + validFor * 1000).toISOString(),
      };
      const { row, created } = await db.write(async (trx, batch) => {
        const existing = await repo.findDevice(trx, input.device_id);
        const next: DevicesTable = { id: existing?.id ?? newId(), device_id: input.device_id, ...fields };
        if (existing) await repo.updateDevice(trx, existing.id, fields);
        else await repo.insertDevice(trx, next);
        await audit.record(trx, batch, {
          type: 'device.reported', action: 'device.report', actor, target: { type: 'device', id: next.id, name: next.device_id }, outcome: 'success',
          details: {
            device_id: next.device_id, principal: { id: principal.id, name: principal.name }, posture: next.posture, valid_until: next.valid_until,
            details: input.details ?? {}, created: !existing,
            ...(existing ? { previous: { posture: existing.posture, principal_id: existing.principal_id, valid_until: existing.valid_until } } : {}),
            reason: input.reason ?? null,
          },
        });
        return { row: next, created: !existing };
      });
      return { created, device: (await views([row]))[0]! };
    },

    async get(deviceId: string): Promise<DeviceView> {
      const row = await repo.findDevice(db.kysely, deviceId);
      if (!row) throw errors.notFound('device', deviceId);
      return (await views([row]))[0]!;
    },

    async list(query: ListDevicesQuery) {
      const after = decodeCursor(query.cursor);
      const principalId = query.principal !== undefined ? (await principalOf(query.principal)).id : undefined;
      const rows = await repo.listDevices(db.kysely, {
        afterId: after === undefined ? undefined : String(after), principalId, posture: query.posture, limit: query.limit + 1,
      });
      const page = pageOf(rows, query.limit, (r) => r.id);
      return { items: await views(page.items), next_cursor: page.next_cursor };
    },

    async remove(actor: Actor, deviceId: string, reason: string | undefined): Promise<void> {
      requireReporter(actor);
      await db.write(async (trx, batch) => {
        const row = await repo.findDevice(trx, deviceId);
        if (!row) throw errors.notFound('device', deviceId);
        await repo.deleteDevice(trx, row.id);
        await audit.record(trx, batch, {
          type: 'device.removed', action: 'device.remove', actor, target: { type: 'device', id: row.id, name: row.device_id }, outcome: 'success',
          details: { device_id: row.device_id, principal_id: row.principal_id, posture: row.posture, reason: reason ?? null },
        });
      });
    },
  };
}
export type DeviceService = ReturnType<typeof createDeviceService>;
