import { z } from 'zod';
import type { AuditWriter } from '../audit/index.js';
import type { Actor } from '../platform/actor.js';
import type { Clock } from '../platform/clock.js';
import type { HttpApp } from '../platform/http/app.js';
import { AppError, errors } from '../platform/http/errors.js';
import type { Database, Trx } from '../platform/store/db.js';
import type { ApprovalsPart } from './parts.js';
import { approvalSettingsSchema, DEFAULT_APPROVAL_SETTINGS, settingsProblem, type ApprovalSettings } from './settings.js';
import * as repo from './settings.repo.js';

// GET/PUT /v1/approval-settings: the approval rules as a document. Everyone who reads requests reads the rules
// (approvers must know what a request needs); only admins change them, with the version they read (a lost update
// is refused), and every change is audited with the document before and after. The floors in settingsProblem
// cannot be lowered, and separation of duties is not in the document at all.

const settingsView = z.object({
  version: z.number().int().describe('0 while the built-in defaults are in force'),
  updated_at: z.string().nullable(),
  updated_by: z.string().nullable(),
  settings: approvalSettingsSchema,
});
const putBody = z.strictObject({
  expected_version: z.number().int().min(0).describe('The version read (0 for the defaults): a change made in between is refused'),
  settings: approvalSettingsSchema,
  reason: z.string().min(1).max(1000),
});

export function createSettingsPart(deps: { db: Database; audit: AuditWriter; clock: Clock }): ApprovalsPart & { current(q: Trx | Database['kysely']): Promise<ApprovalSettings> } {
  const { db, audit, clock } = deps;

  async function current(q: Trx | Database['kysely']): Promise<ApprovalSettings> {
    const row = await repo.findSettings(q);
    return row ? approvalSettingsSchema.parse(JSON.parse(row.document)) : DEFAULT_APPROVAL_SETTINGS;
  }

  async function view() {
    const row = await repo.findSettings(db.kysely);
    return row
      ? { version: row.version, updated_at: row.updated_at, updated_by: row.updated_by, settings: approvalSettingsSchema.parse(JSON.parse(row.document)) }
      : { version: 0, updated_at: null, updated_by: null, settings: DEFAULT_APPROVAL_SETTINGS };
  }

  async function put(actor: Actor, input: z.infer<typeof putBody>) {
    if (actor.role !== 'admin') throw errors.forbidden('only admins change the approval settings');
    const problem = settingsProblem(input.settings);
    if (problem) throw new AppError('invalid_approval_settings', problem);
    return db.write(async (trx, batch) => {
      const before = await current(trx);
      const now = clock.now().toISOString();
      const version = input.expected_version + 1;
      const ok = await repo.saveSettings(trx, { id: 'current', document: JSON.stringify(input.settings), version, updated_at: now, updated_by: actor.principal?.id ?? actor.label }, input.expected_version);
      if (!ok) throw new AppError('version_mismatch', `the approval settings are no longer at version ${input.expected_version}; read them again`);
      await audit.record(trx, batch, {
        type: 'approval_settings.updated', action: 'approval_settings.updated', actor, target: { type: 'approval_settings', id: 'current', name: `version ${version}` },
        outcome: 'success', details: { version, reason: input.reason, before, after: input.settings },
      });
      return { version, updated_at: now, updated_by: actor.principal?.id ?? actor.label, settings: input.settings };
    });
  }

  return {
    current,
    registerRoutes(app: HttpApp) {
      const tags = ['approvals'];
      app.get('/v1/approval-settings', { config: { permission: 'request.read' }, schema: { tags, summary: 'The approval rules in force: approvals per risk tier, approver groups, durations, conflicting-role pairs, review periods', response: { 200: settingsView } } },
        async () => view());
      app.put('/v1/approval-settings', { config: { permission: 'approval.settings', errors: ['forbidden', 'invalid_approval_settings', 'version_mismatch'] }, schema: { tags, summary: 'Replace the approval rules (admins; the floors and separation of duties cannot be lowered)', body: putBody, response: { 200: settingsView } } },
        async (req) => put(req.actor, req.body));
    },
  };
}
