import crypto from 'node:crypto';
import { expect } from 'vitest';
import { NO_FACTS, type DecisionRequest, type RequestFacts, type ResourceTarget } from '../../src/authz/index.js';
import type { Harness } from './harness.js';

// Shared helpers for the decision-point tests (test/authz/pdp-properties, fail-closed, guardrails): a small registry
// fixture created through the real API, activation of a user policy version, and request builders.

/**
 * Activates a user policy version by writing the row the policy lifecycle writes (the lifecycle has its own tests):
 * the previous active version is superseded in the same transaction, and the store's triggers bump the counters.
 */
export async function activate(h: Harness, text: string): Promise<void> {
  await h.cp.db.write(async (trx) => {
    await trx.updateTable('policy_versions').set({ status: 'superseded' }).where('status', '=', 'active').execute();
    const last = await trx.selectFrom('policy_versions').select((eb) => eb.fn.max('version').as('v')).executeTakeFirst();
    const now = new Date().toISOString();
    await trx.insertInto('policy_versions').values({
      id: crypto.randomUUID(), version: Number(last?.v ?? 0) + 1, status: 'active', policies: text, tests: null, description: null,
      sha256: crypto.createHash('sha256').update(text).digest('hex'), created_at: now, created_by: null,
      activated_at: now, activated_by: null, status_reason: null,
    }).execute();
  });
}

/** A user policy that permits everything: whatever still denies is a guardrail (or a refusal). */
export const PERMIT_ALL = '@id("permit-all")\npermit (principal, action, resource);';

/** Facts of a verified access token (private_key_jwt, not DPoP-bound, no purpose) with overrides. */
export const facts = (over: Partial<RequestFacts> = {}): RequestFacts => ({
  ...NO_FACTS, authMethod: 'private_key_jwt', credentialKind: 'access_token', ...over,
});

export const registry = (ref: string): ResourceTarget => ({ kind: 'registry', ref });
export const API: ResourceTarget = { kind: 'api' };

export function request(principal: string, action: string, resource: ResourceTarget, over: Partial<RequestFacts> = {}): DecisionRequest {
  return { principal, action, resource, facts: facts(over), requestId: null };
}

export interface FixturePrincipal {
  name: string;
  kind: 'human' | 'agent' | 'service_account' | 'workload' | 'training_job' | 'pipeline';
  status: 'active' | 'proposed' | 'suspended' | 'decommissioned';
  purposes: string[];
  labels: Record<string, string>;
  teams: string[];
}

export interface FixtureResource {
  name: string;
  kind: 'model' | 'dataset' | 'training_pipeline' | 'endpoint' | 'tool' | 'vector_index';
  classification: 'public' | 'internal' | 'confidential' | 'restricted';
  purposes: string[];
  labels: Record<string, string>;
  parent: string | null;
}

export const TEAMS = ['ml', 'risk'] as const;
export const PURPOSES = ['support', 'fraud', 'training'] as const;

/** Everyone is owned by `owner-h` (a human created first, not part of the fixture's lists). */
export const PRINCIPALS: FixturePrincipal[] = [
  { name: 'ana', kind: 'human', status: 'active', purposes: ['support', 'fraud'], labels: { clearance: 'high' }, teams: ['risk'] },
  { name: 'ben', kind: 'human', status: 'active', purposes: ['support'], labels: {}, teams: ['ml'] },
  { name: 'bot-a', kind: 'agent', status: 'active', purposes: ['support'], labels: { clearance: 'low' }, teams: ['ml'] },
  { name: 'bot-b', kind: 'agent', status: 'active', purposes: ['support', 'fraud'], labels: {}, teams: ['risk'] },
  { name: 'svc', kind: 'service_account', status: 'active', purposes: [], labels: { clearance: 'high' }, teams: [] },
  { name: 'wl', kind: 'workload', status: 'active', purposes: ['training'], labels: {}, teams: ['ml'] },
  { name: 'idle', kind: 'agent', status: 'proposed', purposes: ['support'], labels: {}, teams: [] },
  { name: 'gone', kind: 'agent', status: 'suspended', purposes: ['support'], labels: { clearance: 'low' }, teams: ['ml'] },
];

export const RESOURCES: FixtureResource[] = [
  { name: 'coll', kind: 'dataset', classification: 'internal', purposes: ['support', 'training'], labels: { environment: 'dev' }, parent: null },
  { name: 'ds-pub', kind: 'dataset', classification: 'public', purposes: ['support'], labels: {}, parent: 'coll' },
  { name: 'ds-int', kind: 'dataset', classification: 'internal', purposes: ['support', 'fraud'], labels: { environment: 'dev' }, parent: 'coll' },
  { name: 'ds-conf', kind: 'dataset', classification: 'confidential', purposes: ['fraud'], labels: { environment: 'prod' }, parent: null },
  { name: 'ds-res', kind: 'dataset', classification: 'restricted', purposes: ['fraud'], labels: {}, parent: null },
  { name: 'm-prod', kind: 'model', classification: 'internal', purposes: ['support'], labels: { environment: 'prod' }, parent: null },
  { name: 'tool-x', kind: 'tool', classification: 'public', purposes: [], labels: { environment: 'staging' }, parent: null },
];

async function ok(h: Harness, method: string, url: string, body: unknown, status: number): Promise<any> {
  const res = await h.call(method, url, body);
  expect(res.status, `${method} ${url}: ${res.text}`).toBe(status);
  return res.body;
}

/** Creates the fixture's teams, principals (with their statuses and memberships) and resources. */
export async function seedRegistry(h: Harness): Promise<void> {
  await ok(h, 'POST', '/v1/principals', { name: 'owner-h', kind: 'human' }, 201);
  for (const team of TEAMS) await ok(h, 'POST', '/v1/teams', { name: team }, 201);
  for (const p of PRINCIPALS) {
    const body: Record<string, unknown> = { name: p.name, kind: p.kind, purposes: p.purposes, labels: p.labels };
    if (p.kind !== 'human') body.owner = 'owner-h';
    if (p.status !== 'proposed') body.status = 'active';
    else body.status = 'proposed';
    await ok(h, 'POST', '/v1/principals', body, 201);
    for (const team of p.teams) await ok(h, 'PUT', `/v1/teams/${team}/members/${p.name}`, {}, 200);
    if (p.status === 'suspended') await ok(h, 'POST', `/v1/principals/${p.name}/suspend`, { reason: 'fixture' }, 200);
    if (p.status === 'decommissioned') await ok(h, 'POST', `/v1/principals/${p.name}/decommission`, { reason: 'fixture' }, 200);
  }
  for (const r of RESOURCES) {
    await ok(h, 'POST', '/v1/resources', {
      name: r.name, kind: r.kind, owner: 'owner-h', classification: r.classification, purposes: r.purposes, labels: r.labels,
      ...(r.parent ? { parent: r.parent } : {}),
    }, 201);
  }
}

/** The registry id of a principal (delegation chains carry ids). */
export async function principalId(h: Harness, name: string): Promise<string> {
  const p = await h.cp.authz.entities.principal(name);
  if (!p) throw new Error(`no principal ${name}`);
  return p.id;
}

/**
 * A grant as an approved access request would make it (source `approval`), through the decision point's seam:
 * for fixtures on high or critical resources, where direct admin grants are refused (approval_required) and the
 * approval flow itself is not what the test is about (test/approvals/ covers it).
 */
export async function approvedGrant(h: Harness, g: { principal: string; resource: string; actions: string[]; purpose?: string; durationSeconds: number }): Promise<string> {
  const { systemActor } = await import('../../src/platform/actor.js');
  const view = await h.cp.db.write((trx, batch) => h.cp.authz.grants.createGrant(trx, batch, { ...systemActor('background'), label: 'approvals:test-fixture' }, {
    principal: g.principal, resource: g.resource, actions: g.actions as never, purpose: g.purpose ?? null, durationSeconds: g.durationSeconds,
    reason: 'fixture: approved request', source: 'approval',
  }));
  return view.id;
}
