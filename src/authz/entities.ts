// Registry records → Cedar entities (pure). The shapes follow src/authz/cedar/custos.cedarschema: entity ids are
// names, text not set is "", labels are tags, ranks order tiers. What a caller asserts is never written here: the
// `asserted` attribute points at an `Asserted` entity the decision point adds per request.
import type { EntityJson } from './cedar.js';
import { NS, type EntityUid } from './contracts.js';

export const PRINCIPAL_TYPES: Record<string, string> = {
  human: `${NS}::Human`, agent: `${NS}::Agent`, service_account: `${NS}::ServiceAccount`, workload: `${NS}::Workload`,
  training_job: `${NS}::TrainingJob`, pipeline: `${NS}::Pipeline`,
};
export const RESOURCE_TYPES: Record<string, string> = {
  model: `${NS}::Model`, dataset: `${NS}::Dataset`, training_pipeline: `${NS}::TrainingPipeline`, endpoint: `${NS}::Endpoint`,
  tool: `${NS}::Tool`, vector_index: `${NS}::VectorIndex`,
};
export const TEAM_TYPE = `${NS}::Team`;
export const ASSERTED_TYPE = `${NS}::Asserted`;
export const APP_RESOURCE_TYPE = `${NS}::AppResource`;
export const API_TYPE = `${NS}::Api`;
export const ACTION_TYPE = `${NS}::Action`;
export const API_UID: EntityUid = { type: API_TYPE, id: 'custos' };
export const API_ENTITY: EntityJson = { uid: API_UID, attrs: { name: 'custos' }, parents: [] };

/** The Asserted entity meaning "nothing asserted". */
export const NOTHING_ASSERTED: EntityUid = { type: ASSERTED_TYPE, id: 'none' };
export const NOTHING_ASSERTED_ENTITY: EntityJson = { uid: NOTHING_ASSERTED, attrs: {}, parents: [], tags: {} };

const RANK: Record<string, number> = { public: 0, internal: 1, confidential: 2, restricted: 3, low: 0, medium: 1, high: 2, critical: 3 };

export interface PrincipalRecord {
  id: string;
  name: string;
  kind: string;
  status: string;
  ownerName: string | null;
  ownerTeamName: string | null;
  teamName: string | null;
  riskTier: string;
  purposes: string[];
  scopes: string[];
  environment: string | null;
  autonomy: string | null;
  dataCeiling: string | null;
  spiffeId: string | null;
  labels: Record<string, string>;
  /** Names of the teams it is a member of. */
  memberOf: string[];
}

export interface ResourceRecord {
  id: string;
  name: string;
  kind: string;
  ownerName: string | null;
  ownerTeamName: string | null;
  classification: string;
  riskTier: string;
  purposes: string[];
  uri: string | null;
  labels: Record<string, string>;
  /** The parent's name and kind, when it has one. */
  parent: { name: string; kind: string } | null;
}

export function principalUid(kind: string, name: string): EntityUid {
  return { type: PRINCIPAL_TYPES[kind] ?? `${NS}::Unknown`, id: name };
}

export function resourceUid(kind: string, name: string): EntityUid {
  return { type: RESOURCE_TYPES[kind] ?? `${NS}::Unknown`, id: name };
}

export function teamUid(name: string): EntityUid {
  return { type: TEAM_TYPE, id: name };
}

export function assertedRef(id: string): { __entity: EntityUid } {
  return { __entity: { type: ASSERTED_TYPE, id } };
}

export function principalEntity(p: PrincipalRecord): EntityJson {
  return {
    uid: principalUid(p.kind, p.name),
    attrs: {
      id: p.id, name: p.name, kind: p.kind, status: p.status, owner: p.ownerName ?? '', owner_team: p.ownerTeamName ?? '',
      team: p.teamName ?? '', risk_tier: p.riskTier, risk_rank: RANK[p.riskTier] ?? 3, purposes: p.purposes, scopes: p.scopes,
      environment: p.environment ?? '', autonomy: p.autonomy ?? '', data_ceiling: p.dataCeiling ?? '',
      data_ceiling_rank: p.dataCeiling ? RANK[p.dataCeiling] ?? 0 : 3, spiffe_id: p.spiffeId ?? '',
      asserted: assertedRef('none'),
    },
    parents: p.memberOf.map(teamUid),
    tags: p.labels,
  };
}

export function teamEntity(id: string, name: string): EntityJson {
  return { uid: teamUid(name), attrs: { id, name }, parents: [] };
}

export function resourceEntity(r: ResourceRecord): EntityJson {
  return {
    uid: resourceUid(r.kind, r.name),
    attrs: {
      id: r.id, name: r.name, kind: r.kind, owner: r.ownerName ?? '', owner_team: r.ownerTeamName ?? '',
      classification: r.classification, classification_rank: RANK[r.classification] ?? 3, risk_tier: r.riskTier,
      risk_rank: RANK[r.riskTier] ?? 3, purposes: r.purposes, environment: r.labels.environment ?? r.labels.env ?? '',
      uri: r.uri ?? '', asserted: assertedRef('none'),
    },
    parents: r.parent ? [resourceUid(r.parent.kind, r.parent.name)] : [],
    tags: r.labels,
  };
}

export function appResourceEntity(type: string, id: string, asserted: boolean): EntityJson {
  // The id is the JSON pair, so ("todo", "a/b") and ("todo/a", "b") are never the same entity.
  return { uid: { type: APP_RESOURCE_TYPE, id: JSON.stringify([type, id]) }, attrs: { type, id, asserted: assertedRef(asserted ? 'resource' : 'none') }, parents: [] };
}

/**
 * Caller-asserted properties as the tags of an Asserted entity. Tags are strings: other JSON values are encoded
 * (`true`, `3`, `["a","b"]`), so a policy compares `getTag("ownerID") == principal.name` or `getTag("n") == "3"`.
 */
export function assertedEntity(id: 'subject' | 'resource' | 'request', values: Record<string, unknown>): EntityJson {
  const tags: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) tags[key] = typeof value === 'string' ? value : JSON.stringify(value);
  return { uid: { type: ASSERTED_TYPE, id }, attrs: {}, parents: [], tags };
}

/** A copy of an entity whose `asserted` attribute points at the request's Asserted entity `id`. */
export function withAsserted(entity: EntityJson, id: 'subject' | 'resource'): EntityJson {
  return { ...entity, attrs: { ...entity.attrs, asserted: assertedRef(id) } };
}
