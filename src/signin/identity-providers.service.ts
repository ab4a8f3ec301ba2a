import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { AuditWriter } from '../audit/index.js';
import type { Actor, OperatorRole } from '../platform/actor.js';
import type { Clock } from '../platform/clock.js';
import { AppError, errors } from '../platform/http/errors.js';
import { decodeCursor, pageOf } from '../platform/http/pagination.js';
import { newId as defaultNewId, type IdGenerator } from '../platform/ids.js';
import type { KeyRing } from '../platform/keys.js';
import type { Database, Trx, WriteBatch } from '../platform/store/db.js';
import { isUniqueViolation } from '../platform/store/errors.js';
import type { IdentityProvidersTable } from '../platform/store/schema.js';
import type { IdentityProviderRecord, IdpClientAuth } from './contracts.js';
import { issuerProblem } from './idp-client.js';
import * as repo from './identity-providers.repo.js';
import {
  DEFAULT_SCOPES,
  type CreateIdentityProviderInput, type IdentityProviderView, type ListIdentityProvidersQuery, type UpdateIdentityProviderInput,
} from './identity-providers.schemas.js';

// The organisation's identity providers: the OIDC providers (Okta, Entra ID, Google, Keycloak, …) people sign in
// through, with Custos as the relying party (idp-client.ts talks to them). This file keeps their configuration
// (audited CRUD) and hands the sign-in flow a provider with its secrets opened (load).
//
// Rules:
// - issuer: https, or plain http to 127.0.0.1, [::1] or localhost only (development and tests; see
//   idp-client.ts issuerProblem); no credentials, query or fragment, and the issuer itself, not its discovery
//   URL. Stored exactly as given (the ID token's iss is compared exactly) and never changed: people are known by
//   (provider, subject), so pointing a provider at another issuer would hand its people's accounts to strangers.
//   To move, add a new provider. One provider per issuer, for the same reason.
// - Client authentication: client_secret_basic (default) or client_secret_post need client_secret;
//   private_key_jwt refuses one, and Custos makes its own ES256 key pair for the provider: the private JWK is
//   sealed, the public one is shown (public_jwk) and served at jwks_uri for the admin to register at the provider.
//   Switching to a secret method forgets the key; switching to private_key_jwt forgets the secret; rotate_key
//   replaces the pair.
// - Secrets at rest: the client secret and the private key are sealed with the master key under a context naming
//   the provider (idp-client-secret:<id>, idp-private-key:<id>), so a sealed value cannot be moved to another
//   row. Views, lists, audit events and errors never hold either; views say only whether a secret is set.
// - scopes: must include openid; repeats dropped. subject_claim: sub (default) or email. new_principal_status:
//   proposed (default) or active.
// - Group mappings (group_roles, group_teams) need a groups_claim; teams are named by id or name and stored by
//   id (a team that does not exist is team_not_found); views show each team's name, null once it was deleted.
// - Every create, change and removal is audited in the same transaction (signin.idp.created|updated|deleted).

export const KEY_ALG = 'ES256';
export const MAX_PROVIDERS_FOR_SIGNIN = 200;

/** Resolves team references (ids or names) to teams: identity's, passed in by the composition root. */
export interface TeamResolver {
  /** The teams `refs` name, keyed by the reference as given; a reference that names no team is absent. */
  teamsByRef(refs: string[], trx?: Trx): Promise<Map<string, { id: string; name: string }>>;
}

export interface IdentityProviderDeps {
  db: Database;
  audit: AuditWriter;
  keys: KeyRing;
  clock: Clock;
  teams: TeamResolver;
  /** This server's issuer URL (the public URL): jwks_uri is built from it. */
  issuer: () => string;
  newId?: IdGenerator;
  /** Inside the deleting transaction: what ends with the provider (the sessions people started through it). */
  onRemoved?: (trx: Trx, batch: WriteBatch, actor: Actor, idpId: string) => Promise<void>;
}

const invalid = (detail: string) => new AppError('invalid_identity_provider', detail);
const secretContext = (id: string) => `idp-client-secret:${id}`;
const keyContext = (id: string) => `idp-private-key:${id}`;
const usesSecret = (m: IdpClientAuth) => m !== 'private_key_jwt';

interface KeyPair {
  privateJwk: JWK;
  publicJwk: JWK;
}

/** A fresh key pair for private_key_jwt at one provider; kid is the RFC 7638 thumbprint. */
async function makeKeyPair(): Promise<KeyPair> {
  const { publicKey, privateKey } = await generateKeyPair(KEY_ALG, { extractable: true });
  const pub = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(pub);
  const meta = { kid, alg: KEY_ALG, use: 'sig' };
  return { publicJwk: { ...pub, ...meta }, privateJwk: { ...(await exportJWK(privateKey)), ...meta } };
}

function checkScopes(scopes: readonly string[]): string[] {
  const list = [...new Set(scopes)];
  if (!list.includes('openid')) throw invalid('scopes must include openid (Custos signs people in with OpenID Connect)');
  return list;
}

export function createIdentityProviderService(deps: IdentityProviderDeps) {
  const { db, audit, keys, clock, teams } = deps;
  const newId = deps.newId ?? defaultNewId;

  const jwksUri = (name: string) => `${deps.issuer().replace(/\/+$/, '')}/oauth/idp/${encodeURIComponent(name)}/jwks.json`;

  async function views(rows: IdentityProvidersTable[], trx?: Trx): Promise<IdentityProviderView[]> {
    const parsed = rows.map((row) => ({ row, groupTeams: JSON.parse(row.group_teams) as Record<string, string> }));
    const ids = [...new Set(parsed.flatMap((p) => Object.values(p.groupTeams)))];
    const found = ids.length > 0 ? await teams.teamsByRef(ids, trx) : new Map<string, { id: string; name: string }>();
    return parsed.map(({ row, groupTeams }) => ({
      id: row.id,
      name: row.name,
      display_name: row.display_name,
      issuer: row.issuer,
      client_id: row.client_id,
      client_auth: row.client_auth,
      client_secret_set: row.client_secret_sealed !== null,
      public_jwk: row.public_jwk ? JSON.parse(row.public_jwk) as Record<string, unknown> : null,
      jwks_uri: row.client_auth === 'private_key_jwt' ? jwksUri(row.name) : null,
      scopes: row.scopes.split(' '),
      subject_claim: row.subject_claim as IdentityProviderView['subject_claim'],
      groups_claim: row.groups_claim,
      group_roles: JSON.parse(row.group_roles) as Record<string, OperatorRole>,
      group_teams: Object.fromEntries(Object.entries(groupTeams).map(([g, id]) => [g, { id, name: found.get(id)?.name ?? null }])),
      new_principal_status: row.new_principal_status,
      created_at: row.created_at,
      created_by: row.created_by,
      updated_at: row.updated_at,
    }));
  }

  async function find(q: Trx | Database['kysely'], ref: string): Promise<IdentityProvidersTable> {
    const row = await repo.findProvider(q, ref);
    if (!row) throw errors.notFound('identity provider', ref);
    return row;
  }

  /** group → team id, every team resolved inside the transaction. */
  async function resolveGroupTeams(trx: Trx, groupTeams: Record<string, string>): Promise<Record<string, string>> {
    const refs = [...new Set(Object.values(groupTeams))];
    if (refs.length === 0) return {};
    const found = await teams.teamsByRef(refs, trx);
    const missing = refs.filter((r) => !found.has(r));
    if (missing.length > 0) throw new AppError('team_not_found', `group_teams names ${missing.length === 1 ? 'a team that does' : 'teams that do'} not exist: ${missing.map((m) => `'${m}'`).join(', ')}`);
    return Object.fromEntries(Object.entries(groupTeams).map(([g, ref]) => [g, found.get(ref)!.id]));
  }

  function checkGroupMappings(groupsClaim: string | null, groupRoles: Record<string, unknown>, groupTeams: Record<string, unknown>) {
    if (groupsClaim === null && (Object.keys(groupRoles).length > 0 || Object.keys(groupTeams).length > 0)) {
      throw invalid('group_roles and group_teams need a groups_claim (the claim that carries the person\'s groups, e.g. groups)');
    }
  }

  async function record(trx: Trx, batch: WriteBatch, actor: Actor, type: 'created' | 'updated' | 'deleted', row: Pick<IdentityProvidersTable, 'id' | 'name'>, details: Record<string, unknown>) {
    await audit.record(trx, batch, {
      type: `signin.idp.${type}`, action: `signin.idp.${type}`, actor, target: { type: 'identity_provider', id: row.id, name: row.name }, outcome: 'success', details,
    });
  }

  /** The provider with its secrets opened, for the sign-in flow (never returned by the API). */
  function toRecord(row: IdentityProvidersTable): IdentityProviderRecord {
    return {
      id: row.id,
      name: row.name,
      displayName: row.display_name,
      issuer: row.issuer,
      clientId: row.client_id,
      clientAuth: row.client_auth,
      clientSecret: row.client_secret_sealed ? keys.open(row.client_secret_sealed, secretContext(row.id)).toString('utf8') : null,
      privateKey: row.private_key_sealed ? JSON.parse(keys.open(row.private_key_sealed, keyContext(row.id)).toString('utf8')) as JWK : null,
      scopes: row.scopes.split(' '),
      subjectClaim: row.subject_claim,
      groupsClaim: row.groups_claim,
      groupRoles: JSON.parse(row.group_roles) as Record<string, OperatorRole>,
      groupTeams: JSON.parse(row.group_teams) as Record<string, string>,
      newPrincipalStatus: row.new_principal_status,
    };
  }

  return {
    async create(actor: Actor, input: CreateIdentityProviderInput): Promise<IdentityProviderView> {
      const problem = issuerProblem(input.issuer);
      if (problem) throw invalid(`issuer ${problem}`);
      const clientAuth = input.client_auth ?? 'client_secret_basic';
      if (usesSecret(clientAuth) && input.client_secret === undefined) throw invalid(`${clientAuth} needs client_secret (the secret the provider issued for client '${input.client_id}')`);
      if (!usesSecret(clientAuth) && input.client_secret !== undefined) throw invalid('private_key_jwt takes no client_secret: Custos makes a key pair and the provider is given its public key');
      const scopes = checkScopes(input.scopes ?? DEFAULT_SCOPES);
      const groupsClaim = input.groups_claim ?? null;
      checkGroupMappings(groupsClaim, input.group_roles ?? {}, input.group_teams ?? {});
      const pair = usesSecret(clientAuth) ? undefined : await makeKeyPair();
      const id = newId();

      return db.write(async (trx, batch) => {
        if (await repo.findProvider(trx, input.name)) throw new AppError('name_taken', `an identity provider named '${input.name}' already exists`);
        const clash = await repo.findByIssuer(trx, input.issuer);
        if (clash) throw invalid(`issuer '${input.issuer}' is already configured as '${clash.name}'; change that one instead`);
        const groupTeams = await resolveGroupTeams(trx, input.group_teams ?? {});
        const now = clock.now().toISOString();
        const row: IdentityProvidersTable = {
          id, name: input.name, display_name: input.display_name ?? null, issuer: input.issuer, client_id: input.client_id, client_auth: clientAuth,
          client_secret_sealed: input.client_secret !== undefined ? keys.seal(Buffer.from(input.client_secret, 'utf8'), secretContext(id)) : null,
          private_key_sealed: pair ? keys.seal(Buffer.from(JSON.stringify(pair.privateJwk), 'utf8'), keyContext(id)) : null,
          public_jwk: pair ? JSON.stringify(pair.publicJwk) : null,
          scopes: scopes.join(' '), subject_claim: input.subject_claim ?? 'sub', groups_claim: groupsClaim,
          group_roles: JSON.stringify(input.group_roles ?? {}), group_teams: JSON.stringify(groupTeams),
          new_principal_status: input.new_principal_status ?? 'proposed', created_at: now, created_by: actor.principal?.id ?? null, updated_at: now,
        };
        try {
          await repo.insertProvider(trx, row);
        } catch (error) {
          if (isUniqueViolation(error)) throw new AppError('name_taken', `an identity provider named '${input.name}' already exists`);
          throw error;
        }
        await record(trx, batch, actor, 'created', row, {
          issuer: row.issuer, client_id: row.client_id, client_auth: clientAuth, client_secret_set: row.client_secret_sealed !== null,
          key_id: pair?.publicJwk.kid ?? null, scopes, subject_claim: row.subject_claim, groups_claim: groupsClaim,
          group_roles: input.group_roles ?? {}, group_teams: groupTeams, new_principal_status: row.new_principal_status, reason: input.reason ?? null,
        });
        return (await views([row], trx))[0]!;
      });
    },

    async get(ref: string): Promise<IdentityProviderView> {
      return (await views([await find(db.kysely, ref)]))[0]!;
    },

    async list(query: ListIdentityProvidersQuery) {
      const after = decodeCursor(query.cursor);
      const rows = await repo.listProviders(db.kysely, { afterId: after === undefined ? undefined : String(after), limit: query.limit + 1 });
      const page = pageOf(rows, query.limit, (r) => r.id);
      return { items: await views(page.items), next_cursor: page.next_cursor };
    },

    async update(actor: Actor, ref: string, input: UpdateIdentityProviderInput): Promise<IdentityProviderView> {
      const wantsKey = input.client_auth === 'private_key_jwt' || input.rotate_key === true;
      const pair = wantsKey ? await makeKeyPair() : undefined;
      return db.write(async (trx, batch) => {
        const row = await find(trx, ref);
        const clientAuth = input.client_auth ?? row.client_auth;
        const patch: Partial<IdentityProvidersTable> = {};
        let keyId: string | null = null;
        if (usesSecret(clientAuth)) {
          if (input.rotate_key) throw invalid(`rotate_key is for private_key_jwt; this provider uses ${clientAuth}`);
          if (input.client_secret !== undefined) patch.client_secret_sealed = keys.seal(Buffer.from(input.client_secret, 'utf8'), secretContext(row.id));
          else if (row.client_secret_sealed === null) throw invalid(`${clientAuth} needs client_secret (the secret the provider issued)`);
          if (row.private_key_sealed !== null) Object.assign(patch, { private_key_sealed: null, public_jwk: null });
        } else {
          if (input.client_secret !== undefined) throw invalid('private_key_jwt takes no client_secret: Custos makes a key pair and the provider is given its public key');
          if (row.client_auth !== 'private_key_jwt' || input.rotate_key) {
            patch.private_key_sealed = keys.seal(Buffer.from(JSON.stringify(pair!.privateJwk), 'utf8'), keyContext(row.id));
            patch.public_jwk = JSON.stringify(pair!.publicJwk);
            keyId = pair!.publicJwk.kid!;
          }
          if (row.client_secret_sealed !== null) patch.client_secret_sealed = null;
        }
        if (input.client_auth !== undefined && input.client_auth !== row.client_auth) patch.client_auth = input.client_auth;
        if (input.display_name !== undefined) patch.display_name = input.display_name;
        if (input.client_id !== undefined) patch.client_id = input.client_id;
        const scopes = input.scopes !== undefined ? checkScopes(input.scopes) : undefined;
        if (scopes) patch.scopes = scopes.join(' ');
        if (input.subject_claim !== undefined) patch.subject_claim = input.subject_claim;
        if (input.groups_claim !== undefined) patch.groups_claim = input.groups_claim;
        if (input.new_principal_status !== undefined) patch.new_principal_status = input.new_principal_status;
        if (input.group_roles !== undefined) patch.group_roles = JSON.stringify(input.group_roles);
        const groupTeams = input.group_teams !== undefined ? await resolveGroupTeams(trx, input.group_teams) : undefined;
        if (groupTeams) patch.group_teams = JSON.stringify(groupTeams);
        checkGroupMappings(
          input.groups_claim !== undefined ? input.groups_claim : row.groups_claim,
          input.group_roles ?? JSON.parse(row.group_roles) as Record<string, unknown>,
          groupTeams ?? JSON.parse(row.group_teams) as Record<string, unknown>,
        );

        const changed = Object.keys(patch).map((k) => (k === 'client_secret_sealed' ? 'client_secret' : k === 'private_key_sealed' ? 'private_key' : k));
        await repo.updateProvider(trx, row.id, { ...patch, updated_at: clock.now().toISOString() });
        await record(trx, batch, actor, 'updated', row, {
          changed,
          ...(patch.client_auth !== undefined ? { client_auth: patch.client_auth } : {}),
          ...(patch.client_secret_sealed !== undefined ? { client_secret: patch.client_secret_sealed === null ? 'removed' : 'replaced' } : {}),
          ...(patch.private_key_sealed !== undefined ? { key_id: keyId } : {}),
          ...(input.display_name !== undefined ? { display_name: input.display_name } : {}),
          ...(input.client_id !== undefined ? { client_id: input.client_id } : {}),
          ...(scopes ? { scopes } : {}),
          ...(input.subject_claim !== undefined ? { subject_claim: input.subject_claim } : {}),
          ...(input.groups_claim !== undefined ? { groups_claim: input.groups_claim } : {}),
          ...(input.group_roles !== undefined ? { group_roles: input.group_roles } : {}),
          ...(groupTeams ? { group_teams: groupTeams } : {}),
          ...(input.new_principal_status !== undefined ? { new_principal_status: input.new_principal_status } : {}),
          reason: input.reason ?? null,
        });
        return (await views([await find(trx, row.id)], trx))[0]!;
      });
    },

    async remove(actor: Actor, ref: string, reason: string | undefined): Promise<void> {
      await db.write(async (trx, batch) => {
        const row = await find(trx, ref);
        await repo.deleteProvider(trx, row.id);
        await record(trx, batch, actor, 'deleted', row, { issuer: row.issuer, client_id: row.client_id, reason: reason ?? null });
        await deps.onRemoved?.(trx, batch, actor, row.id);
      });
    },

    /** The public JWK Set of a private_key_jwt provider (what its admin registers at the provider); not_found otherwise. */
    async jwks(name: string): Promise<{ keys: JWK[] }> {
      const row = await repo.findProvider(db.kysely, name);
      if (!row || row.name !== name || row.client_auth !== 'private_key_jwt' || row.public_jwk === null) {
        throw errors.notFound('identity provider key set', name);
      }
      return { keys: [JSON.parse(row.public_jwk) as JWK] };
    },

    /** What the sign-in page offers: every provider's name and display name, by name. */
    async listForSignin(): Promise<Array<{ name: string; displayName: string }>> {
      const rows = await repo.listNames(db.kysely, MAX_PROVIDERS_FOR_SIGNIN);
      return rows.map((r) => ({ name: r.name, displayName: r.display_name ?? r.name }));
    },

    /** A provider by id or name with its client secret or private key opened; undefined when there is none. */
    async load(ref: string): Promise<IdentityProviderRecord | undefined> {
      const row = await repo.findProvider(db.kysely, ref);
      return row ? toRecord(row) : undefined;
    },
  };
}
export type IdentityProviderService = ReturnType<typeof createIdentityProviderService>;
