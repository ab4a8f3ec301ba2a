import { sql, type Kysely, type Migration } from 'kysely';
import type { Dialect } from '../db.js';
import { idColumn } from './columns.js';

type Db = Kysely<any>;

// The authorization module's tables (authz/):
// - policy_versions: versioned Cedar policy sets with their test cases and, optionally, an application schema
//   (actions of applications that use Custos as their PDP); at most one is `active` (the partial unique index makes
//   a second one impossible, so activation is all or nothing).
// - grants: time-bound grants (subject, resource or resource set, actions, purpose, expiry), evaluated as
//   Cedar template-linked policies whose condition carries the expiry; revoked_at ends one at once.
// - devices: posture records pushed to /v1/devices (an MDM or EDR reporting a device's state).
// - posture_issuers: issuers whose signed posture assertions (JWTs) are trusted, with their keys.
// - authz_versions: two counters, `entities` and `policies`, bumped by triggers in the same transaction as any
//   change to what a decision reads (principals, teams, memberships, resources; policy versions, grants). The
//   decision point compares them with its in-memory snapshot and reloads when they moved, so a decision never
//   uses a stale snapshot and names the versions it used, on every node.

const ENTITY_TABLES = ['principals', 'teams', 'team_members', 'resources'];
const POLICY_TABLES = ['policy_versions', 'grants'];

export function migration(dialect: Dialect): Migration {
  const key = idColumn(dialect);
  return {
    async up(db: Db) {
      await db.schema.createTable('policy_versions')
        .addColumn('id', key, (c) => c.primaryKey())
        .addColumn('version', 'integer', (c) => c.notNull().unique())
        .addColumn('status', 'text', (c) => c.notNull()) // candidate | active | superseded | rejected
        .addColumn('policies', 'text', (c) => c.notNull())
        .addColumn('tests', 'text') // YAML test cases as submitted
        .addColumn('app_schema', 'text') // Cedar schema fragment: an application's own actions (namespace App)
        .addColumn('description', 'text')
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addColumn('activated_at', 'text')
        .addColumn('activated_by', 'text')
        .addColumn('status_reason', 'text')
        .execute();
      await sql.raw(`create unique index policy_versions_one_active on policy_versions (status) where status = 'active'`).execute(db);

      await db.schema.createTable('grants')
        .addColumn('id', key, (c) => c.primaryKey())
        .addColumn('principal_id', key, (c) => c.notNull().references('principals.id'))
        .addColumn('resource_id', key, (c) => c.notNull().references('resources.id'))
        .addColumn('actions', 'text', (c) => c.notNull()) // JSON list of action names
        .addColumn('purpose', 'text')
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull()) // admin | approval | break_glass
        .addColumn('source_ref', 'text') // e.g. the access request that produced it
        .addColumn('granted_by', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'text')
        .addColumn('revoked_by', 'text')
        .addColumn('revoked_reason', 'text')
        .execute();
      await db.schema.createIndex('grants_principal_idx').on('grants').columns(['principal_id', 'id']).execute();
      await db.schema.createIndex('grants_resource_idx').on('grants').columns(['resource_id', 'id']).execute();

      await db.schema.createTable('devices')
        .addColumn('id', key, (c) => c.primaryKey())
        .addColumn('device_id', key, (c) => c.notNull().unique()) // the reporter's own identifier for the device
        .addColumn('principal_id', key, (c) => c.references('principals.id'))
        .addColumn('posture', 'text', (c) => c.notNull()) // compliant | noncompliant | unknown
        .addColumn('details', 'text', (c) => c.notNull()) // JSON facts reported (os, disk encryption, …)
        .addColumn('reported_at', 'text', (c) => c.notNull())
        .addColumn('reported_by', 'text')
        .addColumn('valid_until', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('devices_principal_idx').on('devices').columns(['principal_id']).execute();

      await db.schema.createTable('posture_issuers')
        .addColumn('id', key, (c) => c.primaryKey())
        .addColumn('name', key, (c) => c.notNull().unique())
        .addColumn('issuer', 'text', (c) => c.notNull().unique())
        .addColumn('jwks', 'text') // inline JWKS (JSON), or
        .addColumn('jwks_uri', 'text')
        .addColumn('max_age_seconds', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text')
        .execute();

      await db.schema.createTable('authz_versions')
        .addColumn('name', key, (c) => c.primaryKey())
        .addColumn('version', 'bigint', (c) => c.notNull())
        .execute();
      await db.insertInto('authz_versions').values([{ name: 'entities', version: 1 }, { name: 'policies', version: 1 }]).execute();

      const bump = (table: string, counter: string) => dialect === 'sqlite'
        ? ['insert', 'update', 'delete'].map((op) => `create trigger ${table}_authz_${op} after ${op} on ${table}
            begin update authz_versions set version = version + 1 where name = '${counter}'; end`)
        : [`create trigger ${table}_authz after insert or update or delete on ${table}
            for each statement execute function custos_authz_bump('${counter}')`];
      if (dialect === 'postgres') {
        await sql.raw(`create or replace function custos_authz_bump() returns trigger as $$
          begin
            update authz_versions set version = version + 1 where name = tg_argv[0];
            return null;
          end $$ language plpgsql`).execute(db);
      }
      for (const table of ENTITY_TABLES) for (const stmt of bump(table, 'entities')) await sql.raw(stmt).execute(db);
      for (const table of POLICY_TABLES) for (const stmt of bump(table, 'policies')) await sql.raw(stmt).execute(db);
    },
  };
}
