import { createIdentityDirectory } from '../../src/identity/index.js';
import { createClientKeyService } from '../../src/credentials/client-keys.service.js';
import { createClientMaterial } from '../../src/credentials/client-material.js';
import { createClientSecretService } from '../../src/credentials/client-secrets.service.js';
import type { CredentialDirectory, CredentialPrincipal } from '../../src/credentials/contracts.js';
import { NO_PROVENANCE, operatorActor, type Actor, type OperatorRole } from '../../src/platform/actor.js';
import { isUuid, newId } from '../../src/platform/ids.js';
import type { Backend } from '../support/backends.js';
import { startHarness, type Harness } from '../support/harness.js';

// A real control plane (its /v1/client-keys and /v1/client-secrets routes are the composition root's) and, beside
// it on the same store, the two services built from a small CredentialDirectory over the principals table with a
// spy for the revocation hook, so tests see what the services hand the revocation service. Principals are
// created through the API, as an operator would.

export interface RevokedCall { credentialId: string; reason: string; actor: string | null; inTransaction: boolean }

/** Reads principals the way identity's credential directory does, owner team included. */
export function testDirectory(h: Harness): CredentialDirectory {
  const names = createIdentityDirectory({ db: h.cp.db });
  return {
    async principal(ref, trx) {
      const q = trx ?? h.cp.db.kysely;
      const row = await q.selectFrom('principals').selectAll().where(isUuid(ref) ? 'id' : 'name', '=', ref).executeTakeFirst();
      if (!row) return undefined;
      const teams = await q.selectFrom('team_members').select('team_id').where('principal_id', '=', row.id).execute();
      const p: CredentialPrincipal = {
        id: row.id, name: row.name, kind: row.kind, status: row.status, ownerId: row.owner_principal_id, ownerTeamId: row.owner_team_id,
        scopes: JSON.parse(row.scopes), purposes: JSON.parse(row.purposes), riskTier: row.risk_tier as CredentialPrincipal['riskTier'],
        mayDelegateTo: JSON.parse(row.may_delegate_to), dataCeiling: row.data_ceiling, teamIds: teams.map((t) => t.team_id),
      };
      return p;
    },
    async resourceByIndicator() { return undefined; },
    principalNames: (ids, trx) => names.principalNames(ids, trx),
  };
}

export async function startClientCredentials(backend: Backend) {
  const h = await startHarness(backend);
  const directory = testDirectory(h);
  const revoked: RevokedCall[] = [];
  const deps = {
    db: h.cp.db, audit: h.cp.audit, clock: h.clock, newId, directory,
    async onCredentialRevoked(trx: unknown, _batch: unknown, actor: Actor, credentialId: string, reason: string) {
      revoked.push({ credentialId, reason, actor: actor.principal?.name ?? actor.label, inTransaction: typeof (trx as { selectFrom?: unknown }).selectFrom === 'function' });
    },
  };
  const keys = createClientKeyService(deps);
  const secrets = createClientSecretService(deps);
  const material = createClientMaterial({ keys, secrets });

  let n = 0;
  const admin = async (method: string, url: string, body?: unknown) => {
    const r = await h.call(method, url, body);
    if (r.status >= 300) throw new Error(`fixture ${method} ${url} failed: ${r.status} ${r.text}`);
    return r.body;
  };

  /** An operator Actor for a new human holding `role` (the principal exists in the registry; no token is minted). */
  async function operator(role: OperatorRole, teams: string[] = []): Promise<Actor> {
    const name = `op-${role}-${++n}`;
    const p = await admin('POST', '/v1/principals', { name, kind: 'human' });
    for (const t of teams) await admin('PUT', `/v1/teams/${t}/members/${name}`, { role: 'member' });
    const teamIds = await Promise.all(teams.map(async (t) => (await admin('GET', `/v1/teams/${t}`)).id as string));
    return operatorActor({
      principal: { id: p.id, name, kind: 'human', status: 'active', ownerId: null }, credentialId: 'aaaaaaaaaaaaaaaa', role, teamIds, provenance: NO_PROVENANCE,
    });
  }

  /** A new agent (active unless told otherwise) owned by `owner` (a principal name) or by `team`. */
  async function agent(opts: { owner?: string; team?: string; status?: string } = {}): Promise<{ id: string; name: string }> {
    const name = `client-agent-${++n}`;
    const p = await admin('POST', '/v1/principals', {
      name, kind: 'agent', ...(opts.team ? { owner_team: opts.team } : { owner: opts.owner ?? 'bootstrap-admin' }),
      ...(opts.status === 'proposed' ? {} : { status: 'active' }),
    });
    if (opts.status && opts.status !== 'active' && opts.status !== 'proposed') await admin('POST', `/v1/principals/${name}/${opts.status === 'suspended' ? 'suspend' : 'decommission'}`, {});
    return { id: p.id, name };
  }

  return { h, keys, secrets, material, revoked, directory, admin, operator, agent, uniq: (p: string) => `${p}-${++n}` };
}
export type ClientCredentials = Awaited<ReturnType<typeof startClientCredentials>>;
