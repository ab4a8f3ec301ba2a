import type { AuditWriter } from '../../audit/index.js';
import type { Actor } from '../../platform/actor.js';
import type { Clock } from '../../platform/clock.js';
import { errors } from '../../platform/http/errors.js';
import { decodeCursor, encodeCursor } from '../../platform/http/pagination.js';
import type { Database } from '../../platform/store/db.js';
import { ASSET_ACTIONS, type AssetAction, type Pdp } from '../contracts.js';
import type { AccessQuery, AccessView } from './access.schemas.js';
import * as repo from './grants.repo.js';
import { describeStatement, factsFromStatement, type StatedFacts } from './stated-facts.js';

// What a principal can do on which resources now: every registry resource × every asset action asked of the
// decision point (`evaluate`: guardrails, the active policies and the grants, exactly as a real request with these
// facts would be decided), never guessed from scopes or grant rows. The walk is one audit event
// (`authz.access_listed`, committed before the answer), not one per evaluation.
//
// Readers: `principal.read` (admin, security, auditors); an owner-role operator only for principals they may see
// (themselves, and what they own directly or through a team), others answer 404 as everywhere else.

type Grantee = NonNullable<Awaited<ReturnType<typeof repo.findGrantee>>>;

function mayInspect(actor: Actor, p: Grantee): boolean {
  if (actor.role === 'admin' || actor.role === 'security' || actor.role === 'auditor') return true;
  if (actor.role !== 'owner' || !actor.principal) return false;
  return p.id === actor.principal.id || p.owner_principal_id === actor.principal.id
    || (p.owner_team_id !== null && actor.teamIds.includes(p.owner_team_id));
}

export function createAccessService(deps: { db: Database; audit: AuditWriter; clock: Clock; pdp: Pdp }) {
  const { db, audit, clock, pdp } = deps;

  return {
    async list(actor: Actor, ref: string, query: AccessQuery): Promise<AccessView> {
      const principal = await repo.findGrantee(db.kysely, ref);
      if (!principal || !mayInspect(actor, principal)) throw errors.notFound('principal', ref);
      const after = decodeCursor(query.cursor);
      const stated: StatedFacts = {
        ...(query.purpose !== undefined ? { purpose: query.purpose } : {}),
        ...(query.dpop_bound !== undefined ? { dpopBound: query.dpop_bound } : {}),
        ...(query.source_ip !== undefined ? { sourceIp: query.source_ip } : {}),
        ...(query.via !== undefined ? { via: query.via } : {}),
        ...(query.auth_method !== undefined ? { authMethod: query.auth_method } : {}),
        ...(query.device_id !== undefined ? { deviceId: query.device_id } : {}),
      };
      const now = clock.now();
      const facts = factsFromStatement(stated, now);
      const resources = await repo.listResourcesPage(db.kysely, { afterId: after === undefined ? undefined : String(after), limit: query.limit + 1, kind: query.resource_kind });
      const walked = resources.slice(0, query.limit);
      const versions = new Map<string, { policy: string; entity: number }>();
      const items: AccessView['items'] = [];
      for (const r of walked) {
        const allowed: AccessView['items'][number]['allowed'] = [];
        const failed: AccessView['items'][number]['errors'] = [];
        for (const action of ASSET_ACTIONS as readonly AssetAction[]) {
          const d = await pdp.evaluate({ principal: principal.id, action, resource: { kind: 'registry', ref: r.id }, facts, requestId: actor.provenance.requestId });
          versions.set(`${d.policyVersion}|${d.entityVersion}`, { policy: d.policyVersion, entity: d.entityVersion });
          if (d.decision === 'allow') {
            allowed.push({ action, policies: [...new Set(d.verdicts.flatMap((v) => v.permits))] });
          }
          for (const reason of d.reasons) if (reason.kind === 'error') failed.push({ action, policy: reason.policy, message: reason.message });
        }
        if (allowed.length || failed.length) items.push({ resource: { id: r.id, name: r.name, kind: r.kind, classification: r.classification }, allowed, errors: failed });
      }
      const last = walked[walked.length - 1];
      const next = resources.length > query.limit && last ? encodeCursor(last.id) : null;
      const view: AccessView = {
        principal: { id: principal.id, name: principal.name, kind: principal.kind, status: principal.status },
        simulated_facts: describeStatement(stated),
        evaluated_at: now.toISOString(),
        versions: [...versions.values()],
        items,
        resources_walked: walked.length,
        next_cursor: next,
      };
      await db.write((trx, batch) => audit.record(trx, batch, {
        type: 'authz.access_listed', action: 'authz.access_listed', actor, outcome: 'success',
        target: { type: 'principal', id: principal.id, name: principal.name }, purpose: facts.purpose,
        policyVersion: view.versions[0]?.policy ?? null,
        details: {
          simulated_facts: view.simulated_facts, resource_kind: query.resource_kind ?? null, continued: query.cursor !== undefined,
          resources_walked: walked.length, evaluations: walked.length * ASSET_ACTIONS.length,
          resources_with_access: items.filter((i) => i.allowed.length > 0).length,
          allowed: items.reduce((n, i) => n + i.allowed.length, 0),
          errors: items.reduce((n, i) => n + i.errors.length, 0),
          versions: view.versions,
        },
      }));
      return view;
    },
  };
}
export type AccessService = ReturnType<typeof createAccessService>;
