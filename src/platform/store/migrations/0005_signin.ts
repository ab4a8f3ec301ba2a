import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../db.js';
import { idColumn } from './columns.js';

type Db = Kysely<any>;

// The sign-in module's tables (people signing in):
// - identity_providers: the organisation's OIDC providers Custos federates to (client secret or private key sealed).
// - external_identities: which principal an IdP subject is; the only way a sign-in finds an existing person
//   (never by display name or email).
// - oauth_clients: registered OAuth clients for people (and dynamically registered ones, when enabled). Clients
//   identified by a Client ID Metadata Document are not stored: their document is fetched and cached.
// - signin_requests: one authorization or device request from arrival to code/token (its browser binding,
//   upstream IdP state sealed, the signed-in person, the code's hash and single use; the device and user codes).
// - signin_sessions: what a person's refresh tokens continue: role and teams from groups (re-evaluated at every
//   refresh), the upstream refresh token sealed, absolute expiry; tokens minted through it name it as credential.
// - refresh_tokens: hashes only; rotation (used_at) and reuse detection (a used one presented again ends the session).
// Team memberships gain `managed_by`: the IdP that maintains them from groups (null: added by hand, never touched).

export function migration(dialect: Dialect): Migration {
  const key = idColumn(dialect);
  return {
    async up(db: Db) {
      await db.schema.alterTable('team_members').addColumn('managed_by', 'text').execute();

      await db.schema.createTable('identity_providers')
        .addColumn('id', key, (c) => c.primaryKey())
        .addColumn('name', key, (c) => c.notNull().unique())
        .addColumn('display_name', 'text')
        .addColumn('issuer', 'text', (c) => c.notNull())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('client_auth', 'text', (c) => c.notNull()) // client_secret_basic | client_secret_post | private_key_jwt
        .addColumn('client_secret_sealed', 'text')
        .addColumn('private_key_sealed', 'text') // private_key_jwt: Custos's own key pair for this IdP
        .addColumn('public_jwk', 'text')
        .addColumn('scopes', 'text', (c) => c.notNull()) // space-separated
        .addColumn('subject_claim', 'text', (c) => c.notNull()) // sub | email
        .addColumn('groups_claim', 'text')
        .addColumn('group_roles', 'text', (c) => c.notNull()) // JSON { group: operator role }
        .addColumn('group_teams', 'text', (c) => c.notNull()) // JSON { group: team id }
        .addColumn('new_principal_status', 'text', (c) => c.notNull()) // proposed | active
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema.createTable('external_identities')
        .addColumn('idp_id', key, (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('principal_id', key, (c) => c.notNull())
        .addColumn('email', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_sign_in_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('external_identities_pk', ['idp_id', 'subject'])
        .execute();
      await db.schema.createIndex('external_identities_principal_idx').on('external_identities').column('principal_id').execute();

      await db.schema.createTable('oauth_clients')
        .addColumn('client_id', key, (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull()) // registered | dynamic
        .addColumn('redirect_uris', 'text', (c) => c.notNull()) // JSON list
        .addColumn('grant_types', 'text', (c) => c.notNull()) // JSON list
        .addColumn('scope', 'text') // space-separated scopes it may ask for; null: any the person holds
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text')
        .execute();

      await db.schema.createTable('signin_requests')
        .addColumn('id', key, (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull()) // authorize | device
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('request', 'text', (c) => c.notNull()) // JSON: redirect_uri, scope, resource, state, code_challenge, purpose
        .addColumn('browser_hash', 'text') // SHA-256 of the browser-binding cookie
        .addColumn('upstream_sealed', 'text') // IdP round trip: idp, state, nonce, PKCE verifier (sealed)
        .addColumn('principal_id', key)
        .addColumn('auth', 'text') // JSON: how the person signed in (method, idp, role, teams, amr, auth_time)
        .addColumn('upstream_refresh_sealed', 'text')
        .addColumn('status', 'text', (c) => c.notNull()) // pending | authenticated | approved | denied | done
        .addColumn('code_hash', 'text')
        .addColumn('device_code_hash', 'text')
        .addColumn('user_code', 'text')
        .addColumn('last_polled_at', 'text')
        .addColumn('session_id', key) // the session its code or device code started
        .addColumn('requester', 'text') // who started it (source address; IPv6 by /64), for the per-requester bound
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('signin_requests_code_idx').on('signin_requests').column('code_hash').unique().execute();
      await db.schema.createIndex('signin_requests_device_idx').on('signin_requests').column('device_code_hash').unique().execute();
      await db.schema.createIndex('signin_requests_user_code_idx').on('signin_requests').column('user_code').unique().execute();
      await db.schema.createIndex('signin_requests_expires_idx').on('signin_requests').column('expires_at').execute();
      await db.schema.createIndex('signin_requests_requester_idx').on('signin_requests').columns(['requester', 'expires_at']).execute();

      await db.schema.createTable('signin_sessions')
        .addColumn('id', key, (c) => c.primaryKey())
        .addColumn('principal_id', key, (c) => c.notNull())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('auth_method', 'text', (c) => c.notNull()) // federated | operator_token
        .addColumn('idp_id', key)
        .addColumn('source_credential_id', 'text') // operator_token sign-in: the token pasted
        .addColumn('role', 'text') // operator role from groups (or the pasted token)
        .addColumn('groups', 'text', (c) => c.notNull()) // JSON list, as last seen
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('audience', 'text', (c) => c.notNull()) // JSON list
        .addColumn('purpose', 'text')
        .addColumn('jkt', 'text') // DPoP key the refresh tokens are bound to (public clients)
        .addColumn('upstream_refresh_sealed', 'text')
        .addColumn('auth_time', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('last_refreshed_at', 'text')
        .addColumn('revoked_at', 'text')
        .addColumn('revoked_reason', 'text')
        .execute();
      await db.schema.createIndex('signin_sessions_principal_idx').on('signin_sessions').columns(['principal_id', 'id']).execute();
      await db.schema.createIndex('signin_sessions_source_idx').on('signin_sessions').column('source_credential_id').execute();
      await db.schema.createIndex('signin_sessions_idp_idx').on('signin_sessions').column('idp_id').execute();

      await db.schema.createTable('refresh_tokens')
        .addColumn('id', key, (c) => c.primaryKey()) // the credential id inside custos_rt_<id>_…
        .addColumn('session_id', key, (c) => c.notNull())
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('issued_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('used_at', 'text') // rotated: presenting it again is reuse
        .addColumn('replaced_by', 'text')
        .execute();
      await db.schema.createIndex('refresh_tokens_session_idx').on('refresh_tokens').column('session_id').execute();
    },
  };
}
