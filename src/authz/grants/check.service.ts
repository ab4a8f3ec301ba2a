import type { AuditWriter } from '../../audit/index.js';
import type { Actor } from '../../platform/actor.js';
import type { Clock } from '../../platform/clock.js';
import { AppError, errors } from '../../platform/http/errors.js';
import type { Database } from '../../platform/store/db.js';
import { ASSET_ACTIONS, type Pdp, type RequestFacts, type ResourceTarget } from '../contracts.js';
import type { DevicePosture } from '../devices/posture.js';
import type { CheckInput, CheckView } from './check.schemas.js';
import * as repo from './grants.repo.js';
import { describeStatement, factsFromStatement, type StatedFacts } from './stated-facts.js';

// `POST /v1/authz/check`: explains one decision. It is a real decision (`pdp.decide`, so `authz.decision` is
// committed before the answer, like every other), on facts an operator states; a second event, `authz.checked`,
// names the decision event, the operator and the simulated facts, so the log never passes an explanation off as a
// request that happened.
//
// Who: `authz.evaluate`, and only operators (admin, security). A service account holding `authz:evaluate` uses
// the AuthZEN API, which keeps it to the subjects it may ask about; this route names any principal.
//
// `device` explains the posture the decision saw: context.device plus `detail` (why: no device presented, no record,
// expired, another principal's, assertion refused: …) from the devices part's postureOf (the same evidence, looked
// at again for the explanation; the detail never reaches the Cedar context).

const ASSET = new Set<string>(ASSET_ACTIONS);

export interface CheckDeps {
  db: Database;
  audit: AuditWriter;
  clock: Clock;
  pdp: Pdp;
  /** The devices part's posture lookup (for `device.detail`); without it only "no device presented" is explained. */
  postureOf?: (principalId: string, facts: RequestFacts) => Promise<DevicePosture>;
}

type DeviceView = CheckView['device'];

export function createCheckService(deps: CheckDeps) {
  const { db, audit, clock, pdp } = deps;

  /** The posture the decision used, with why it is what it is. */
  async function deviceOf(context: Record<string, unknown>, principalRef: string, facts: RequestFacts): Promise<DeviceView> {
    const seen = (context.device ?? {}) as Partial<DevicePosture>;
    const base: DeviceView = { posture: seen.posture ?? 'unknown', id: seen.id ?? '', source: seen.source ?? 'none' };
    if (!facts.device || (!facts.device.deviceId && !facts.device.assertion)) {
      return { ...base, detail: 'no device was presented (state --device or --posture)' };
    }
    if (!deps.postureOf) return base;
    const principal = await repo.findGrantee(db.kysely, principalRef);
    if (!principal) return base;
    const explained = await deps.postureOf(principal.id, facts).catch(() => undefined);
    return explained?.detail ? { ...base, detail: explained.detail } : base;
  }

  return {
    async check(actor: Actor, input: CheckInput): Promise<CheckView> {
      if (actor.role !== 'admin' && actor.role !== 'security') throw errors.forbidden('authz check is for operators (admin, security); applications use the AuthZEN API');
      let resource: ResourceTarget;
      if (ASSET.has(input.action)) {
        if (input.resource === undefined) throw errors.validation(`'${input.action}' is an asset action: name the resource`, [{ path: ['resource'], message: 'required for asset actions' }]);
        resource = { kind: 'registry', ref: input.resource, ...(input.resource_kind ? { resourceKind: input.resource_kind } : {}) };
      } else {
        if (input.resource !== undefined || input.resource_kind !== undefined) {
          throw errors.validation(`'${input.action}' is a management action on the Custos API: omit the resource`, [{ path: ['resource'], message: 'not for management actions' }]);
        }
        resource = { kind: 'api' };
      }
      const chain: string[] = [];
      for (const ref of input.delegation_chain ?? []) {
        const p = await repo.findGrantee(db.kysely, ref);
        if (!p) throw new AppError('principal_not_found', `principal '${ref}' of the delegation chain does not exist`);
        chain.push(p.id);
      }
      const stated: StatedFacts = {
        ...(input.purpose !== undefined ? { purpose: input.purpose } : {}),
        ...(input.dpop_bound !== undefined ? { dpopBound: input.dpop_bound } : {}),
        ...(input.source_ip !== undefined ? { sourceIp: input.source_ip } : {}),
        ...(input.via !== undefined ? { via: input.via } : {}),
        ...(input.auth_method !== undefined ? { authMethod: input.auth_method } : {}),
        ...(input.credential !== undefined ? { credential: input.credential } : {}),
        ...(input.workload_id !== undefined ? { workloadId: input.workload_id } : {}),
        ...(input.delegation_chain !== undefined ? { delegationChain: chain } : {}),
        ...(input.token_age_seconds !== undefined ? { tokenAgeSeconds: input.token_age_seconds } : {}),
        ...(input.device_id !== undefined ? { deviceId: input.device_id } : {}),
        ...(input.posture_assertion !== undefined ? { postureAssertion: input.posture_assertion } : {}),
        ...(input.risk !== undefined ? { risk: input.risk } : {}),
      };
      const simulated = describeStatement(stated);
      const facts = factsFromStatement(stated, clock.now());
      const d = await pdp.decide({
        principal: input.principal, action: input.action, resource, facts, requestId: actor.provenance.requestId,
        simulated: { statedBy: actor.principal?.id ?? null, facts: simulated },
      }, actor);
      const device = await deviceOf(d.context, input.principal, facts);
      const errored = d.reasons.flatMap((r) => r.kind === 'error' ? [{ policy: r.policy, principal: r.principal, message: r.message }] : []);
      const event = await db.write((trx, batch) => audit.record(trx, batch, {
        type: 'authz.checked', action: 'authz.checked', actor, outcome: 'success', decision: d.decision, policyVersion: d.policyVersion,
        purpose: stated.purpose ?? null,
        target: resource.kind === 'registry' ? { type: 'resource', id: null, name: resource.ref } : { type: 'api', id: null, name: 'custos' },
        details: {
          principal: input.principal, action: input.action, decision_event_id: d.auditEventId, simulated_facts: simulated,
          stated_by: { id: actor.principal?.id ?? null, name: actor.principal?.name ?? null },
        },
      }));
      return {
        decision: d.decision,
        reasons: d.reasons as unknown as Array<Record<string, unknown>>,
        permitted_by: [...new Set(d.verdicts.flatMap((v) => v.permits))],
        forbidden_by: [...new Set(d.verdicts.flatMap((v) => v.forbids))],
        errored,
        verdicts: d.verdicts,
        context: d.context,
        device,
        policy_version: d.policyVersion,
        entity_version: d.entityVersion,
        simulated_facts: simulated,
        stated_by: { id: actor.principal?.id ?? null, name: actor.principal?.name ?? null },
        decision_event_id: d.auditEventId,
        check_event_id: event.id,
      };
    },
  };
}
export type CheckService = ReturnType<typeof createCheckService>;
