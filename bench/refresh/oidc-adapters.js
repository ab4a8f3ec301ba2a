// Durable storage adapters for the peer (oidc-refresh-server.js), so oidc-provider can also be measured writing its
// refresh tokens somewhere that survives a crash, as Custos does. oidc-provider ships only a development in-memory
// adapter; these follow its adapter interface (upsert, find, findByUid, findByUserCode, consume, destroy,
// revokeByGrantId) in the plain shape its documentation and example adapters use: one table of JSON payloads keyed
// by (model, id), with the grant id, uid and user code as indexed columns.
//
// Rules:
// - Every adapter call is its own statement and commits on its own (autocommit): the adapter interface has no
//   transaction spanning calls, so a refresh's `consume` of the old token and `upsert` of the new one are two
//   commits, not one.
// - sqlite: better-sqlite3 (synchronous, on the event loop), WAL, synchronous=FULL — the settings Custos runs with.
// - postgres: node-postgres Pool (10 connections), default synchronous_commit (on), one fresh database per run.
// - `consumed` is stored as a column and merged into the payload on find, as oidc-provider's memory adapter does.
// - Expiry is left to oidc-provider (it checks `exp` on every token it finds); rows are not swept during a bench.
import Database from 'better-sqlite3';
import pg from 'pg';

const GRANTABLE = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest', 'PreAuthorizedCode']);
const epoch = () => Math.floor(Date.now() / 1000);

/** SQLite at `file`: returns oidc-provider's `adapter` option (a class per model name). */
export function sqliteAdapter(file) {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec(`create table if not exists oidc_payloads (
    model text not null, id text not null, payload text not null, grant_id text, uid text, user_code text,
    expires_at integer, consumed_at integer, primary key (model, id)) without rowid;
    create index if not exists oidc_payloads_grant on oidc_payloads (grant_id);
    create index if not exists oidc_payloads_uid on oidc_payloads (uid);
    create index if not exists oidc_payloads_user_code on oidc_payloads (user_code);`);
  const s = {
    upsert: db.prepare(`insert into oidc_payloads (model, id, payload, grant_id, uid, user_code, expires_at, consumed_at)
      values (?, ?, ?, ?, ?, ?, ?, null)
      on conflict (model, id) do update set payload = excluded.payload, grant_id = excluded.grant_id, uid = excluded.uid,
        user_code = excluded.user_code, expires_at = excluded.expires_at, consumed_at = null`),
    find: db.prepare('select payload, consumed_at from oidc_payloads where model = ? and id = ?'),
    findByUid: db.prepare('select payload, consumed_at from oidc_payloads where model = ? and uid = ?'),
    findByUserCode: db.prepare('select payload, consumed_at from oidc_payloads where model = ? and user_code = ?'),
    consume: db.prepare('update oidc_payloads set consumed_at = ? where model = ? and id = ?'),
    destroy: db.prepare('delete from oidc_payloads where model = ? and id = ?'),
    revoke: db.prepare('delete from oidc_payloads where grant_id = ?'),
  };
  const row = (r) => (r ? { ...JSON.parse(r.payload), ...(r.consumed_at ? { consumed: r.consumed_at } : {}) } : undefined);
  return class SqliteAdapter {
    constructor(model) { this.model = model; }
    async upsert(id, payload, expiresIn) {
      s.upsert.run(this.model, id, JSON.stringify(payload), GRANTABLE.has(this.model) ? payload.grantId ?? null : null, payload.uid ?? null, payload.userCode ?? null,
        typeof expiresIn === 'number' ? epoch() + expiresIn : null);
    }
    async find(id) { return row(s.find.get(this.model, id)); }
    async findByUid(uid) { return row(s.findByUid.get(this.model, uid)); }
    async findByUserCode(userCode) { return row(s.findByUserCode.get(this.model, userCode)); }
    async consume(id) { s.consume.run(epoch(), this.model, id); }
    async destroy(id) { s.destroy.run(this.model, id); }
    async revokeByGrantId(grantId) { s.revoke.run(grantId); }
  };
}

/** PostgreSQL at `url` (an existing, empty database): creates the table, returns { Adapter, close }. */
export async function postgresAdapter(url) {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  await pool.query(`create table if not exists oidc_payloads (
    model text not null, id text not null, payload jsonb not null, grant_id text, uid text, user_code text,
    expires_at timestamptz, consumed_at timestamptz, primary key (model, id));
    create index if not exists oidc_payloads_grant on oidc_payloads (grant_id);
    create index if not exists oidc_payloads_uid on oidc_payloads (uid);
    create index if not exists oidc_payloads_user_code on oidc_payloads (user_code);`);
  const row = (r) => (r ? { ...r.payload, ...(r.consumed ? { consumed: Number(r.consumed) } : {}) } : undefined);
  const select = 'select payload, extract(epoch from consumed_at)::bigint as consumed from oidc_payloads';
  class PostgresAdapter {
    constructor(model) { this.model = model; }
    async upsert(id, payload, expiresIn) {
      await pool.query({
        name: 'oidc_upsert',
        text: `insert into oidc_payloads (model, id, payload, grant_id, uid, user_code, expires_at, consumed_at)
          values ($1, $2, $3, $4, $5, $6, case when $7::int is null then null else now() + make_interval(secs => $7::int) end, null)
          on conflict (model, id) do update set payload = excluded.payload, grant_id = excluded.grant_id, uid = excluded.uid,
            user_code = excluded.user_code, expires_at = excluded.expires_at, consumed_at = null`,
        values: [this.model, id, payload, GRANTABLE.has(this.model) ? payload.grantId ?? null : null, payload.uid ?? null, payload.userCode ?? null,
          typeof expiresIn === 'number' ? expiresIn : null],
      });
    }
    async find(id) { return row((await pool.query({ name: 'oidc_find', text: `${select} where model = $1 and id = $2`, values: [this.model, id] })).rows[0]); }
    async findByUid(uid) { return row((await pool.query({ name: 'oidc_find_uid', text: `${select} where model = $1 and uid = $2`, values: [this.model, uid] })).rows[0]); }
    async findByUserCode(userCode) { return row((await pool.query({ name: 'oidc_find_uc', text: `${select} where model = $1 and user_code = $2`, values: [this.model, userCode] })).rows[0]); }
    async consume(id) { await pool.query({ name: 'oidc_consume', text: 'update oidc_payloads set consumed_at = now() where model = $1 and id = $2', values: [this.model, id] }); }
    async destroy(id) { await pool.query({ name: 'oidc_destroy', text: 'delete from oidc_payloads where model = $1 and id = $2', values: [this.model, id] }); }
    async revokeByGrantId(grantId) { await pool.query({ name: 'oidc_revoke', text: 'delete from oidc_payloads where grant_id = $1', values: [grantId] }); }
  }
  return { Adapter: PostgresAdapter, close: () => pool.end() };
}
