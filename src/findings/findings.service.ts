import type { Actor } from '../platform/actor.js';
import type { AuditWriter } from '../audit/index.js';
import type { Clock } from '../platform/clock.js';
import type { Database, Trx, WriteBatch } from '../platform/store/db.js';
import { AppError, errors } from '../platform/http/errors.js';
import type { IdGenerator } from '../platform/ids.js';
import { decodeCursor, pageOf } from '../platform/http/pagination.js';
import type { FindingsTable } from '../platform/store/schema.js';
import * as repo from './findings.repo.js';
import type { FindingView, ListFindingsQuery, ReportInput, UpdateFindingInput } from './findings.schemas.js';
import { allowedStatusChanges, priorityLabel, priorityScore, type FindingStatus, type Liveness } from './priority.js';

// Findings reported by `custos scan --report`: one row per secret (fingerprint), a remediation status,
// a priority, and automatic revocation when the secret is a live Custos credential.

/**
 * What findings needs from the credential issuers (declared here by the consumer): revoke a leaked Custos
 * credential. `kind` is the credential format's kind the scanner parsed offline (`op`, `ak`, …); the provider
 * dispatches by it and answers `unknown` for a kind or id it does not hold.
 */
export interface LeakRevoker {
  revokeLeaked(trx: Trx, batch: WriteBatch, actor: Actor, leak: { kind: string; id: string; sha256Prefix: string }, details: Record<string, unknown>):
    Promise<{ liveness: Liveness; ownerId: string | null; revoked: boolean }>;
}

export interface FindingServiceDeps {
  db: Database;
  audit: AuditWriter;
  clock: Clock;
  newId: IdGenerator;
  credentials: LeakRevoker;
  autoRevoke: boolean;
}

export function createFindingService(deps: FindingServiceDeps) {
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
          const existing = await repo.findByFingerprint(trx, f.fingerprint);
          const id = existing?.id ?? deps.newId();
          let liveness: Liveness = (existing?.liveness as Liveness | undefined) ?? 'unknown';
          let status = (existing?.status as FindingStatus | undefined) ?? 'open';
          let ownerId = existing?.credential_owner_id ?? null;
          if (f.credential && f.secret_sha256_prefix && deps.autoRevoke) {
            const leak = { kind: f.credential.kind, id: f.credential.id, sha256Prefix: f.secret_sha256_prefix };
            const r = await deps.credentials.revokeLeaked(trx, batch, actor, leak, {
              finding_id: id, fingerprint: f.fingerprint, source: input.source, target: input.target,
            });
            liveness = r.liveness;
            ownerId = r.ownerId ?? ownerId;
            if (r.revoked) revoked.push({ credential_id: f.credential.id, finding_id: id, owner_id: r.ownerId });
            if (r.liveness === 'revoked' && status === 'open') status = 'revoked';
          }
          const publicRepo = exposure.publicRepo || existing?.public_repo === 1;
          const pushedImage = exposure.pushedImage || existing?.pushed_image === 1;
          const score = priorityScore(f.severity, { publicRepo, pushedImage }, liveness);
          if (existing) {
            await repo.updateFinding(trx, id, {
              severity: f.severity, status, liveness, public_repo: publicRepo ? 1 : 0, pushed_image: pushedImage ? 1 : 0,
              priority_score: score, last_seen_at: now, locations_seen: existing.locations_seen + 1, credential_owner_id: ownerId, updated_at: now,
            });
            updated++;
          } else {
            await repo.insertFinding(trx, {
              id, fingerprint: f.fingerprint, rule_id: f.rule_id, provider: f.provider, severity: f.severity, status, liveness,
              public_repo: publicRepo ? 1 : 0, pushed_image: pushedImage ? 1 : 0, priority_score: score, redacted: f.redacted,
              source_kind: input.source, target: input.target, location: JSON.stringify(f.location), locations_seen: 1,
              credential_kind: f.credential?.kind ?? null, credential_id: f.credential?.id ?? null, credential_owner_id: ownerId,
              note: null, first_seen_at: now, last_seen_at: now, updated_at: now, updated_by: actor.principal?.id ?? null,
            });
            created++;
          }
          ids.push(id);
        }
        await audit.record(trx, batch, {
          type: 'finding.reported', action: 'scan.report', actor, target: { type: 'scan', id: null, name: input.target }, outcome: 'success',
          details: { source: input.source, incomplete: input.incomplete, received: input.findings.length, created, updated, revoked: revoked.map((r) => r.credential_id) },
        });
        const rows = await repo.findingsByIds(trx, ids);
        return { received: input.findings.length, created, updated, revoked, findings: rows.map(toView) };
      });
    },

    async list(q: ListFindingsQuery) {
      const after = decodeCursor(q.cursor);
      const rows = await repo.listFindings(db.kysely, {
        status: q.status, severity: q.severity, ruleId: q.rule, credentialId: q.credential,
        afterId: after === undefined ? undefined : String(after), limit: q.limit + 1,
      });
      const page = pageOf(rows, q.limit, (r) => r.id);
      return { items: page.items.map(toView), next_cursor: page.next_cursor };
    },

    async get(ref: string) {
      const row = await repo.findFinding(db.kysely, ref);
      if (!row) throw errors.notFound('finding', ref);
      return toView(row);
    },

    async update(actor: Actor, ref: string, input: UpdateFindingInput) {
      return db.write(async (trx, batch) => {
        const row = await repo.findFinding(trx, ref);
        if (!row) throw errors.notFound('finding', ref);
        const allowed = allowedStatusChanges(row.status as FindingStatus);
        if (!allowed.includes(input.status)) {
          throw new AppError('invalid_transition', `a finding cannot move from '${row.status}' to '${input.status}'; allowed: ${allowed.join(', ') || 'none'}`, { from: row.status, to: input.status, allowed });
        }
        const now = clock.now().toISOString();
        const patch = { status: input.status, note: input.note ?? row.note, updated_at: now, updated_by: actor.principal?.id ?? null };
        await repo.updateFinding(trx, row.id, patch);
        await audit.record(trx, batch, {
          type: 'finding.updated', action: 'finding.update', actor, target: { type: 'finding', id: row.id, name: row.fingerprint }, outcome: 'success',
          details: { from: row.status, to: input.status, note: input.note ?? null },
        });
        return toView({ ...row, ...patch });
      });
    },
  };
}
export type FindingService = ReturnType<typeof createFindingService>;

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
