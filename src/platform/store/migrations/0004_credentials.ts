import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../db.js';
import { idColumn } from './columns.js';

type Db = Kysely<any>;

// The credentials module's tables: signing keys (private halves sealed), issued access tokens (for listing,
// family revocation and introspection; never the token itself), API keys and client secrets (hashes only),
// registered client public keys, federation trust, the replay store (DPoP proofs and client assertions,
// shared by every node on one database) and the revocation list (versioned, so other nodes can follow it).
// Principals gain `may_delegate_to`; resources gain an audience URI and the principal that serves them.

export function migration(dialect: Dialect): Migration {
  const key = idColumn(dialect);
  return {
    async up(db: Db) {
      await db.schema.alterTable('principals').addColumn('may_delegate_to', 'text', (c) => c.notNull().defaultTo('[]')).execute();
      await db.schema.alterTable('resources').addColumn('uri', 'text').execute();
      await db.schema.alterTable('resources').addColumn('server_principal_id', 'text').execute();
      await db.schema.createIndex('resources_uri_idx').on('resources').column('uri').unique().execute();

      await db.schema.createTable('signing_keys')
        .addColumn('kid', key, (c) => c.primaryKey())
        .addColumn('alg', 'text', (c) => c.notNull())
        .addColumn('public_jwk', 'text', (c) => c.notNull())
        .addColumn('private_sealed', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull()) // active | retiring | retired
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('rotate_at', 'text', (c) => c.notNull()) // when an active key is due to be replaced
        .addColumn('deactivated_at', 'text') // stopped signing
        .addColumn('verify_until', 'text') // tokens it signed are all expired after this
        .addColumn('retired_at', 'text')
        .execute();

      await db.schema.createTable('oauth_tokens')
        .addColumn('jti', key, (c) => c.primaryKey())
        .addColumn('principal_id', key, (c) => c.notNull()) // sub
        .addColumn('client_id', key, (c) => c.notNull()) // who asked (the actor of an exchange)
        .addColumn('family_id', key, (c) => c.notNull()) // jti of the root of its delegation family
        .addColumn('parent_jti', key)
        .addColumn('depth', 'integer', (c) => c.notNull())
        .addColumn('grant_type', 'text', (c) => c.notNull())
        .addColumn('auth_method', 'text', (c) => c.notNull())
        .addColumn('credential_id', 'text') // the client secret, client key or API key it was obtained with
        .addColumn('scope', 'text', (c) => c.notNull()) // space-separated
        .addColumn('audience', 'text', (c) => c.notNull()) // JSON list
        .addColumn('purpose', 'text')
        .addColumn('jkt', 'text')
        .addColumn('act_chain', 'text', (c) => c.notNull()) // JSON list of principal ids, outermost first
        .addColumn('kid', 'text', (c) => c.notNull())
        .addColumn('issued_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'text')
        .addColumn('revoked_reason', 'text')
        .execute();
      await db.schema.createIndex('oauth_tokens_principal_idx').on('oauth_tokens').columns(['principal_id', 'jti']).execute();
      await db.schema.createIndex('oauth_tokens_client_idx').on('oauth_tokens').columns(['client_id', 'jti']).execute();
      await db.schema.createIndex('oauth_tokens_credential_idx').on('oauth_tokens').columns(['credential_id']).execute();
      await db.schema.createIndex('oauth_tokens_parent_idx').on('oauth_tokens').columns(['parent_jti']).execute();
      await db.schema.createIndex('oauth_tokens_family_idx').on('oauth_tokens').columns(['family_id']).execute();
      await db.schema.createIndex('oauth_tokens_expires_idx').on('oauth_tokens').columns(['expires_at']).execute();

      await db.schema.createTable('api_keys')
        .addColumn('id', key, (c) => c.primaryKey())
        .addColumn('principal_id', key, (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('scope', 'text', (c) => c.notNull())
        .addColumn('audience', 'text', (c) => c.notNull())
        .addColumn('purpose', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'text')
        .addColumn('revoked_reason', 'text')
        .addColumn('last_used_at', 'text')
        .addColumn('replaced_by', 'text')
        .execute();
      await db.schema.createIndex('api_keys_principal_idx').on('api_keys').columns(['principal_id', 'id']).execute();

      await db.schema.createTable('client_secrets')
        .addColumn('id', key, (c) => c.primaryKey())
        .addColumn('principal_id', key, (c) => c.notNull())
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'text')
        .addColumn('revoked_reason', 'text')
        .addColumn('last_used_at', 'text')
        .addColumn('replaced_by', 'text')
        .execute();
      await db.schema.createIndex('client_secrets_principal_idx').on('client_secrets').columns(['principal_id', 'id']).execute();

      await db.schema.createTable('client_keys')
        .addColumn('id', key, (c) => c.primaryKey())
        .addColumn('principal_id', key, (c) => c.notNull())
        .addColumn('kid', 'text')
        .addColumn('alg', 'text', (c) => c.notNull())
        .addColumn('jwk', 'text', (c) => c.notNull()) // public JWK only
        .addColumn('thumbprint', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addColumn('expires_at', 'text')
        .addColumn('removed_at', 'text')
        .addColumn('last_used_at', 'text')
        .execute();
      await db.schema.createIndex('client_keys_principal_idx').on('client_keys').columns(['principal_id', 'id']).execute();

      await db.schema.createTable('federation_issuers')
        .addColumn('id', key, (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('issuer', 'text', (c) => c.notNull())
        .addColumn('jwks_url', 'text')
        .addColumn('jwks', 'text') // inline JWKS (JSON), when no URL
        .addColumn('audience', 'text', (c) => c.notNull())
        .addColumn('algorithms', 'text', (c) => c.notNull()) // JSON list
        .addColumn('mappings', 'text', (c) => c.notNull()) // JSON list of { principal_id, claims }
        .addColumn('max_token_age_seconds', 'integer')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema.createTable('replay_cache')
        .addColumn('key_hash', key, (c) => c.primaryKey()) // SHA-256 of kind + issuer + jti
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('replay_cache_expires_idx').on('replay_cache').column('expires_at').execute();

      await db.schema.createTable('revocations')
        .addColumn('version', dialect === 'postgres' ? 'bigserial' : 'integer', (c) => (dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement()))
        .addColumn('kind', 'text', (c) => c.notNull()) // token | family | credential | principal
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'text', (c) => c.notNull())
        .addColumn('not_before', 'text') // principal revocations: tokens issued before this are dead
        .addColumn('forget_after', 'text') // after this nothing it covers can still verify
        .execute();
      await db.schema.createIndex('revocations_target_idx').on('revocations').columns(['kind', 'target']).execute();
    },
  };
}
