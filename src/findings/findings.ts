import { z } from 'zod';
import type { Actor } from '../platform/actor.js';
import type { AuditWriter } from '../audit/writer.js';
import type { Clock } from '../platform/clock.js';
import type { Database, Trx, WriteBatch } from '../platform/store/db.js';
import { AppError, errors } from '../platform/http/errors.js';
import type { HttpApp } from '../platform/http/app.js';
import type { IdGenerator } from '../platform/ids.js';
import { decodeCursor, pageOf, pageSchema, paginationQuery } from '../platform/http/pagination.js';
import type { FindingsTable } from '../platform/store/schema.js';
import { FINDING_STATUSES, allowedStatusChanges, priorityLabel, priorityScore, type FindingStatus, type Liveness } from './priority.js';

// Findings reported by `custos scan --report`: one row per secret (fingerprint), a remediation status,
// a priority, and automatic revocation when the secret is a live Custos credential.

const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;

export const reportBody = z.strictObject({
  scanner: z.strictObject({ name: z.string().max(100), version: z.string().max(50) }),
  source: z.enum(['dir', 'git', 'image']),
  target: z.string().min(1).max(4096),
  incomplete: z.boolean(),
  incomplete_reasons: z.array(z.string().max(1000)).max(1000),
  exposure: z.strictObject({ public_repo: z.boolean().optional(), pushed_image: z.boolean().optional() }).default({}),
  findings: z.array(z.strictObject({
    fingerprint: z.string().regex(/^[0-9a-f]{32}$/),
    rule_id: z.string().min(1).max(100),
    provider: z.string().max(100),
    severity: z.enum(SEVERITIES),
    verified: z.boolean(),
    redacted: z.string().max(300),
    /** First 16 hex chars of SHA-256 of the secret: lets the server confirm a Custos credential without it. */
    secret_sha256_prefix: z.string().regex(/^[0-9a-f]{16}$/).optional(),
    location: z.record(z.string(), z.unknown()).refine((l) => JSON.stringify(l).length <= 8192, 'location too large'),
    credential: z.strictObject({ kind: z.string().max(10), id: z.string().regex(/^[a-z2-7]{16}$/) }).optional(),
  })).max(20_000),
});
export type ReportInput = z.infer<typeof reportBody>;

export const findingSchema = z.object({
  id: z.string(), fingerprint: z.string(), rule_id: z.string(), provider: z.string(), severity: z.string(),
  status: z.enum(FINDING_STATUSES), liveness: z.string(), priority: z.string(), priority_score: z.number(),
  exposure: z.object({ public_repo: z.boolean(), pushed_image: z.boolean() }),
  redacted: z.string(), source: z.string(), target: z.string(), location: z.record(z.string(), z.unknown()), locations_seen: z.number(),
  credential: z.object({ kind: z.string(), id: z.string(), owner_id: z.string().nullable() }).nullable(),
  note: z.string().nullable(), first_seen_at: z.string(), last_seen_at: z.string(), updated_at: z.string(), updated_by: z.string().nullable(),
});
export type FindingView = z.infer<typeof findingSchema>;

export const listFindingsQuery = z.strictObject({
  ...paginationQuery,
  status: z.enum(FINDING_STATUSES).optional(),
  severity: z.enum(SEVERITIES).optional(),
  rule: z.string().max(100).optional(),
  credential: z.string().max(100).optional(),
});
export const updateFindingBody = z.strictObject({ status: z.enum(FINDING_STATUSES), note: z.string().max(2000).optional() });

function toView(r: FindingsTable): FindingView {
  return {
    id: r.id, fingerprint: r.fingerprint, rule_id: r.rule_id, provider: r.provider, severity: r.severity,
    status: r.status as FindingStatus, liveness: r.liveness, priority: priorityLabel(r.priority_score), priority_score: r.priority_score,
    exposure: { public_repo: r.public_repo === 1, pushed_image: r.pushed_image === 1 },
    redacted: r.redacted, source: r.source_kind, target: r.target, location: JSON.parse(r.location) as Record<string, unknown>,
    locations_seen: r.locations_seen,
    credential: r.credential_id ? { kind: r.credential_kind ?? '', id: r.credential_id, owner_id: r.credential_owner_id } : null,
    note: r.note, first_seen_at: r.first_seen_at, last_seen_at: r.last_seen_at, updated_at: r.updated_at, updated_by: r.updated_by,
  };
}

export interface LeakRevoker {
  revokeLeaked(trx: Trx, batch: WriteBatch, actor: Actor, leak: { id: string; sha256Prefix: string }, details: Record<string, unknown>):
    Promise<{ liveness: Liveness; ownerId: string | null; revoked: boolean }>;
}

export function createFindingService(deps: { db: Database; audit: AuditWriter; clock: Clock; newId: IdGenerator; credentials: LeakRevoker; autoRevoke: boolean }) {
  const { db, audit, clock } = deps;

  return {
    async report(actor: Actor, input: ReportInput) {
      return db.write(async (trx, batch) => {
        const now = clock.now().toISOString();
        const exposure = { publicRepo: input.exposure.public_repo ?? false, pushedImage: input.exposure.pushed_image ?? false };
        let created = 0;
        let updated = 0;
        const revoked: Array<{ credential_id: string; finding_id: string; owner_id: string | null }> = [];
        const ids: string[] = [];
        for (const f of input.findings) {
          const existing = await trx.selectFrom('findings').selectAll().where('fingerprint', '=', f.fingerprint).executeTakeFirst();
          const id = existing?.id ?? deps.newId();
          let liveness: Liveness = (existing?.liveness as Liveness | undefined) ?? 'unknown';
          let status = (existing?.status as FindingStatus | undefined) ?? 'open';
          let ownerId = existing?.credential_owner_id ?? null;
          if (f.credential?.kind === 'op' && f.secret_sha256_prefix) {
            if (deps.autoRevoke) {
              const r = await deps.credentials.revokeLeaked(trx, batch, actor, { id: f.credential.id, sha256Prefix: f.secret_sha256_prefix }, {
                finding_id: id, fingerprint: f.fingerprint, source: input.source, target: input.target,
              });
              liveness = r.liveness;
              ownerId = r.ownerId ?? ownerId;
              if (r.revoked) revoked.push({ credential_id: f.credential.id, finding_id: id, owner_id: r.ownerId });
              if (r.liveness === 'revoked' && status === 'open') status = 'revoked';
            }
          }
          const publicRepo = exposure.publicRepo || existing?.public_repo === 1;
          const pushedImage = exposure.pushedImage || existing?.pushed_image === 1;
          const score = priorityScore(f.severity, { publicRepo, pushedImage }, liveness);
          if (existing) {
            await trx.updateTable('findings').set({
              severity: f.severity, status, liveness, public_repo: publicRepo ? 1 : 0, pushed_image: pushedImage ? 1 : 0,
              priority_score: score, last_seen_at: now, locations_seen: existing.locations_seen + 1, credential_owner_id: ownerId, updated_at: now,
            }).where('id', '=', id).execute();
            updated++;
          } else {
            await trx.insertInto('findings').values({
              id, fingerprint: f.fingerprint, rule_id: f.rule_id, provider: f.provider, severity: f.severity, status, liveness,
              public_repo: publicRepo ? 1 : 0, pushed_image: pushedImage ? 1 : 0, priority_score: score, redacted: f.redacted,
              source_kind: input.source, target: input.target, location: JSON.stringify(f.location), locations_seen: 1,
              credential_kind: f.credential?.kind ?? null, credential_id: f.credential?.id ?? null, credential_owner_id: ownerId,
              note: null, first_seen_at: now, last_seen_at: now, updated_at: now, updated_by: actor.principal?.id ?? null,
            }).execute();
            created++;
          }
          ids.push(id);
        }
        await audit.record(trx, batch, {
          type: 'finding.reported', action: 'scan.report', actor, target: { type: 'scan', id: null, name: input.target }, outcome: 'success',
          details: { source: input.source, incomplete: input.incomplete, received: input.findings.length, created, updated, revoked: revoked.map((r) => r.credential_id) },
        });
        const rows = ids.length ? await trx.selectFrom('findings').selectAll().where('id', 'in', ids).execute() : [];
        return { received: input.findings.length, created, updated, revoked, findings: rows.map(toView) };
      });
    },

    async list(q: z.infer<typeof listFindingsQuery>) {
      const after = decodeCursor(q.cursor);
      let query = db.kysely.selectFrom('findings').selectAll();
      if (q.status) query = query.where('status', '=', q.status);
      if (q.severity) query = query.where('severity', '=', q.severity);
      if (q.rule) query = query.where('rule_id', '=', q.rule);
      if (q.credential) query = query.where('credential_id', '=', q.credential);
      if (after !== undefined) query = query.where('id', '>', String(after));
      const rows = await query.orderBy('id').limit(q.limit + 1).execute();
      const page = pageOf(rows, q.limit, (r) => r.id);
      return { items: page.items.map(toView), next_cursor: page.next_cursor };
    },

    async get(id: string) {
      const row = await db.kysely.selectFrom('findings').selectAll().where((eb) => eb.or([eb('id', '=', id), eb('fingerprint', '=', id)])).executeTakeFirst();
      if (!row) throw errors.notFound('finding', id);
      return toView(row);
    },

    async update(actor: Actor, id: string, input: z.infer<typeof updateFindingBody>) {
      return db.write(async (trx, batch) => {
        const row = await trx.selectFrom('findings').selectAll().where((eb) => eb.or([eb('id', '=', id), eb('fingerprint', '=', id)])).executeTakeFirst();
        if (!row) throw errors.notFound('finding', id);
        const allowed = allowedStatusChanges(row.status as FindingStatus);
        if (!allowed.includes(input.status)) {
          throw new AppError('invalid_transition', `a finding cannot move from '${row.status}' to '${input.status}'; allowed: ${allowed.join(', ') || 'none'}`, { from: row.status, to: input.status, allowed });
        }
        const now = clock.now().toISOString();
        await trx.updateTable('findings').set({ status: input.status, note: input.note ?? row.note, updated_at: now, updated_by: actor.principal?.id ?? null }).where('id', '=', row.id).execute();
        await audit.record(trx, batch, {
          type: 'finding.updated', action: 'finding.update', actor, target: { type: 'finding', id: row.id, name: row.fingerprint }, outcome: 'success',
          details: { from: row.status, to: input.status, note: input.note ?? null },
        });
        return toView({ ...row, status: input.status, note: input.note ?? row.note, updated_at: now, updated_by: actor.principal?.id ?? null });
      });
    },
  };
}
export type FindingService = ReturnType<typeof createFindingService>;

const tags = ['findings'];
export const REPORT_BODY_LIMIT = 32 * 1024 * 1024;

export function registerFindingRoutes(app: HttpApp, findings: FindingService): void {
  app.post('/v1/findings/report', {
    bodyLimit: REPORT_BODY_LIMIT,
    config: { permission: 'finding.write' },
    schema: {
      tags, summary: 'Store a scan\'s findings (deduplicated by fingerprint); live leaked Custos credentials are revoked at once',
      body: reportBody,
      response: { 200: z.object({ received: z.number(), created: z.number(), updated: z.number(), revoked: z.array(z.object({ credential_id: z.string(), finding_id: z.string(), owner_id: z.string().nullable() })), findings: z.array(findingSchema) }) },
    },
  }, async (req) => findings.report(req.actor, req.body));
  app.get('/v1/findings', { config: { permission: 'finding.read' }, schema: { tags, summary: 'List findings', querystring: listFindingsQuery, response: { 200: pageSchema(findingSchema) } } },
    async (req) => findings.list(req.query));
  app.get('/v1/findings/:id', { config: { permission: 'finding.read' }, schema: { tags, summary: 'Show a finding (by id or fingerprint)', params: z.strictObject({ id: z.string().max(100) }), response: { 200: findingSchema } } },
    async (req) => findings.get(req.params.id));
  app.patch('/v1/findings/:id', { config: { permission: 'finding.write' }, schema: { tags, summary: 'Change a finding\'s status (rotated, accepted, false_positive, open)', params: z.strictObject({ id: z.string().max(100) }), body: updateFindingBody, response: { 200: findingSchema } } },
    async (req) => findings.update(req.actor, req.params.id, req.body));
}
