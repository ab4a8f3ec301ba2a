// The decision point's in-memory view of what decisions read: entities (principals, teams, resources) and the
// policy set (guardrails + active version + grants), each under a version number the store keeps.
//
// Freshness without staleness: before every decision the two counters in `authz_versions` are read (one small
// query; triggers bump them in the same transaction as any change, on every node). Equal counters mean the snapshot
// is current; otherwise it is rebuilt. A reload reads the counters and the data in one read transaction, so a
// snapshot never mixes two versions (activation is atomic for decisions too). Concurrent
// decisions share one counter read, but never one that started before they were asked.
import crypto from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../platform/store/db.js';
import type { DB } from '../platform/store/schema.js';
import type { Clock } from '../platform/clock.js';
import { appActionsOf, GUARDRAILS, policySetJson, preparse, splitPolicies, type EntityJson, type PolicySet } from './cedar.js';
import { pruneEntity, usageOf, type AttributeUsage } from './usage.js';
import type { EntityUid, SnapshotPrincipal, SnapshotResource } from './contracts.js';
import {
  principalEntity, principalUid, resourceEntity, resourceUid, teamEntity, type PrincipalRecord, type ResourceRecord,
} from './entities.js';
import { composePolicySet, type GrantForPolicy } from './policy-set.js';
import * as repo from './snapshot.repo.js';

export interface Snapshot {
  entitiesVersion: number;
  policiesVersion: number;
  activePolicyVersion: number | null;
  /** The pre-parsed policy set's id in the engine's cache (parsed again if its slot was reused meanwhile). */
  readonly policySetId: string;
  policySet: PolicySet;
  /** The application actions the active version's application schema declares (`App::Action::"…"`). */
  appActions: ReadonlySet<string>;
  /** What the active set can read: entities and context are handed to the engine with only that (usage.ts). */
  usage: AttributeUsage;
  /** The principal's entity and its teams, with only what the active set reads. */
  prunedPrincipalEntities(id: string): EntityJson[];
  /** The resource's entity and its ancestors, with only what the active set reads. */
  prunedResourceEntities(id: string): EntityJson[];
  /** Guardrails and grants, for composing a candidate set around other user policies. */
  guardrails: Record<string, string>;
  grants: GrantForPolicy[];
  principal(ref: string): SnapshotPrincipal | undefined;
  resource(ref: string, kind?: string): SnapshotResource | undefined;
  principals(): SnapshotPrincipal[];
  resources(): SnapshotResource[];
  /** The principal's entity and its teams. */
  principalEntities(id: string): EntityJson[];
  /** The resource's entity and its ancestors. */
  resourceEntities(id: string): EntityJson[];
}

/** Principals and resources by id or name, from a snapshot brought up to date first (for the parts). */
export interface EntityLookup {
  principal(ref: string): Promise<SnapshotPrincipal | undefined>;
  resource(ref: string, kind?: string): Promise<SnapshotResource | undefined>;
  principals(): Promise<SnapshotPrincipal[]>;
  resources(): Promise<SnapshotResource[]>;
}

const GUARDRAIL_POLICIES = splitPolicies(GUARDRAILS, { builtIn: true });

const json = <T>(text: string | null, fallback: T): T => (text ? JSON.parse(text) as T : fallback);

/**
 * The engine keeps pre-parsed sets in a process-wide cache with no way to drop one. Each source parses into a few
 * slots of its own (ids unique per source, so two control planes in one process never share a set) and reuses
 * them in turn; a snapshot whose slot was taken by a newer version meanwhile parses its set again.
 */
export function createParsedSetSlots(label: string, slots = 8) {
  const owner = new Map<string, string>();
  const slotOf = (key: string) => `${label}:${crypto.createHash('sha256').update(key).digest().readUInt32BE(0) % slots}`;
  return {
    /** The slot holding the set named `key`, parsing it there first unless it is already the slot's owner. */
    place(key: string, set: PolicySet | (() => PolicySet)): string {
      const id = slotOf(key);
      if (owner.get(id) !== key) {
        owner.delete(id);
        preparse(id, typeof set === 'function' ? set() : set);
        owner.set(id, key);
      }
      return id;
    },
  };
}

export function createSnapshotSource(deps: { db: Database; clock: Clock }) {
  let snapshot: Snapshot | undefined;
  const parsedSets = createParsedSetSlots(`snapshot-${crypto.randomUUID()}`);
  let reloading: Promise<Snapshot> | undefined;

  // Counter reads shared by concurrent callers; a caller never joins a read that began before it asked.
  let inflight: Promise<{ entities: number; policies: number }> | undefined;
  let queued: Promise<{ entities: number; policies: number }> | undefined;
  function freshVersions(): Promise<{ entities: number; policies: number }> {
    if (!inflight) {
      inflight = repo.readVersions(deps.db.kysely).finally(() => { inflight = undefined; });
      return inflight;
    }
    if (!queued) queued = inflight.catch(() => undefined).then(() => { queued = undefined; return freshVersions(); });
    return queued;
  }

  /**
   * Reads the counters and everything they version in one read transaction (repeatable read on PostgreSQL; on
   * SQLite a WAL read transaction sees one snapshot), so the data and the versions it is named by always agree.
   */
  async function load(): Promise<Snapshot> {
    const read = async (db: Kysely<DB>) => {
      const versions = await repo.readVersions(db);
      const [principalRows, teamRows, memberRows, resourceRows, grantRows, active] = await Promise.all([
        repo.principals(db), repo.teams(db), repo.memberships(db), repo.resources(db),
        repo.liveGrants(db, deps.clock.now().toISOString()), repo.activePolicyVersion(db),
      ]);
      return { versions, rows: { principalRows, teamRows, memberRows, resourceRows, grantRows, active } };
    };
    const tx = deps.db.kysely.transaction();
    const { versions, rows } = await (deps.db.dialect === 'postgres' ? tx.setIsolationLevel('repeatable read') : tx).execute(read);
    return build(versions, rows);
  }

  function build(versions: { entities: number; policies: number }, rows: {
    principalRows: Awaited<ReturnType<typeof repo.principals>>; teamRows: Awaited<ReturnType<typeof repo.teams>>;
    memberRows: Awaited<ReturnType<typeof repo.memberships>>; resourceRows: Awaited<ReturnType<typeof repo.resources>>;
    grantRows: Awaited<ReturnType<typeof repo.liveGrants>>; active: Awaited<ReturnType<typeof repo.activePolicyVersion>>;
  }): Snapshot {
    const teamName = new Map(rows.teamRows.map((t) => [t.id, t.name]));
    const teamEntities = new Map(rows.teamRows.map((t) => [t.id, teamEntity(t.id, t.name)]));
    const membersOf = new Map<string, string[]>();
    for (const m of rows.memberRows) membersOf.set(m.principal_id, [...(membersOf.get(m.principal_id) ?? []), m.team_id]);
    const principalName = new Map(rows.principalRows.map((p) => [p.id, p.name]));

    const principalsById = new Map<string, SnapshotPrincipal>();
    const principalsByName = new Map<string, SnapshotPrincipal>();
    const principalEntityLists = new Map<string, EntityJson[]>();
    for (const p of rows.principalRows) {
      const teamIds = membersOf.get(p.id) ?? [];
      const record: PrincipalRecord = {
        id: p.id, name: p.name, kind: p.kind, status: p.status,
        ownerName: p.owner_principal_id ? principalName.get(p.owner_principal_id) ?? null : null,
        ownerTeamName: p.owner_team_id ? teamName.get(p.owner_team_id) ?? null : null,
        teamName: p.team_id ? teamName.get(p.team_id) ?? null : null,
        riskTier: p.risk_tier, purposes: json(p.purposes, []), scopes: json(p.scopes, []), environment: p.environment,
        autonomy: p.autonomy, dataCeiling: p.data_ceiling, spiffeId: json<{ spiffe_id?: string }>(p.external_ids, {}).spiffe_id ?? null,
        labels: json(p.labels, {}), memberOf: teamIds.map((id) => teamName.get(id)!).filter(Boolean),
      };
      const entry: SnapshotPrincipal = { id: p.id, name: p.name, kind: p.kind, status: p.status, uid: principalUid(p.kind, p.name) };
      principalsById.set(p.id, entry);
      principalsByName.set(p.name, entry);
      principalEntityLists.set(p.id, [principalEntity(record), ...teamIds.map((id) => teamEntities.get(id)!).filter(Boolean)]);
    }

    const resourceRowById = new Map(rows.resourceRows.map((r) => [r.id, r]));
    const resourcesById = new Map<string, SnapshotResource>();
    const resourcesByName = new Map<string, SnapshotResource>();
    const resourceEntityById = new Map<string, EntityJson>();
    for (const r of rows.resourceRows) {
      const parent = r.parent_id ? resourceRowById.get(r.parent_id) : undefined;
      const record: ResourceRecord = {
        id: r.id, name: r.name, kind: r.kind,
        ownerName: r.owner_principal_id ? principalName.get(r.owner_principal_id) ?? null : null,
        ownerTeamName: r.owner_team_id ? teamName.get(r.owner_team_id) ?? null : null,
        classification: r.classification, riskTier: r.risk_tier, purposes: json(r.purposes, []), uri: r.uri, labels: json(r.labels, {}),
        parent: parent ? { name: parent.name, kind: parent.kind } : null,
      };
      const entry: SnapshotResource = {
        id: r.id, name: r.name, kind: r.kind, uid: resourceUid(r.kind, r.name), classification: r.classification, riskTier: r.risk_tier, parentId: r.parent_id,
      };
      resourcesById.set(r.id, entry);
      resourcesByName.set(r.name, entry);
      resourceEntityById.set(r.id, resourceEntity(record));
    }
    const resourceEntityLists = new Map<string, EntityJson[]>();
    const ancestry = (id: string): EntityJson[] => {
      const chain: EntityJson[] = [];
      const seen = new Set<string>();
      for (let at: string | null | undefined = id; at && !seen.has(at); at = resourceRowById.get(at)?.parent_id) {
        seen.add(at);
        const entity = resourceEntityById.get(at);
        if (entity) chain.push(entity);
      }
      return chain;
    };

    const grants: GrantForPolicy[] = [];
    for (const g of rows.grantRows) {
      const principal = principalsById.get(g.principal_id);
      const resource = resourcesById.get(g.resource_id);
      if (!principal || !resource) continue;
      grants.push({
        id: g.id, principal: principal.uid, resource: resource.uid, actions: json(g.actions, []), purpose: g.purpose,
        expiresAtEpoch: Math.floor(Date.parse(g.expires_at) / 1000),
      });
    }
    // Parsing is per policy version: a change to entities alone reuses the parsed set (grants name their principal
    // and resource by name, and names never change).
    const reuse = snapshot?.policiesVersion === versions.policies ? snapshot : undefined;
    let policySet = reuse?.policySet;
    if (!policySet) {
      const user = rows.active ? splitPolicies(rows.active.policies) : {};
      policySet = composePolicySet({ guardrails: GUARDRAIL_POLICIES, user, grants });
    }
    const usage = reuse?.usage ?? usageOf(policySetJson(policySet));
    const prunedPrincipals = new Map<string, EntityJson[]>();
    const prunedResources = new Map<string, EntityJson[]>();
    const setKey = `active:${versions.policies}`;
    parsedSets.place(setKey, policySet);

    const byRef = <T>(byId: Map<string, T>, byName: Map<string, T>, ref: string) => byId.get(ref) ?? byName.get(ref);
    return {
      entitiesVersion: versions.entities,
      policiesVersion: versions.policies,
      activePolicyVersion: rows.active ? Number(rows.active.version) : null,
      get policySetId() { return parsedSets.place(setKey, policySet); },
      policySet,
      appActions: new Set(rows.active?.app_schema ? appActionsOf(rows.active.app_schema) : []),
      usage,
      prunedPrincipalEntities(id) {
        let list = prunedPrincipals.get(id);
        if (!list) { list = (principalEntityLists.get(id) ?? []).map((e) => pruneEntity(e, usage)); prunedPrincipals.set(id, list); }
        return list;
      },
      prunedResourceEntities(id) {
        let list = prunedResources.get(id);
        if (!list) { list = this.resourceEntities(id).map((e) => pruneEntity(e, usage)); prunedResources.set(id, list); }
        return list;
      },
      guardrails: GUARDRAIL_POLICIES,
      grants,
      principal: (ref) => byRef(principalsById, principalsByName, ref),
      resource: (ref, kind) => {
        const found = byRef(resourcesById, resourcesByName, ref);
        return found && (!kind || found.kind === kind) ? found : undefined;
      },
      principals: () => [...principalsById.values()],
      resources: () => [...resourcesById.values()],
      principalEntities: (id) => principalEntityLists.get(id) ?? [],
      resourceEntities: (id) => {
        let list = resourceEntityLists.get(id);
        if (!list) { list = ancestry(id); resourceEntityLists.set(id, list); }
        return list;
      },
    };
  }

  return {
    /** The snapshot as of now: rebuilt first when the store's counters moved. Throws when the store cannot be read. */
    async current(): Promise<Snapshot> {
      const versions = await freshVersions();
      if (snapshot && snapshot.entitiesVersion === versions.entities && snapshot.policiesVersion === versions.policies) return snapshot;
      if (!reloading) {
        reloading = load().then((s) => { snapshot = s; return s; }).finally(() => { reloading = undefined; });
      }
      const fresh = await reloading;
      // A reload that began before these counters were read may be older than them: load again.
      if (fresh.entitiesVersion < versions.entities || fresh.policiesVersion < versions.policies) {
        snapshot = await load();
        return snapshot;
      }
      return fresh;
    },
  };
}

export type SnapshotSource = ReturnType<typeof createSnapshotSource>;

/** Composes and pre-parses a policy set with `userText` in place of the active version (tests, impact). */
export function candidatePolicySet(snapshot: Snapshot, userText: string): PolicySet {
  return composePolicySet({ guardrails: snapshot.guardrails, user: splitPolicies(userText), grants: snapshot.grants });
}

export type { EntityUid };
