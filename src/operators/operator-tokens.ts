import { sql } from 'kysely';
import { z } from 'zod';
import type { Actor, OperatorRole, Provenance } from '../platform/actor.js';
import { OPERATOR_ROLES } from '../platform/actor.js';
import type { AuditWriter } from '../audit/writer.js';
import type { Clock } from '../platform/clock.js';
import type { Database, Trx, WriteBatch } from '../platform/store/db.js';
import { AppError, errors } from '../platform/http/errors.js';
import type { HttpApp } from '../platform/http/app.js';
import { isUuid } from '../platform/ids.js';
import { decodeCursor, pageOf, pageSchema, paginationQuery } from '../platform/http/pagination.js';
import type { OperatorTokensTable } from '../platform/store/schema.js';
import { canGrantRole } from './roles.js';
import { generateCustosToken as generateToken, hashCustosToken as hashToken, parseCustosToken, custosTokenMatches as tokenMatches } from '../platform/credential-format.js';

// Operator API tokens: bearer credentials for humans who run Custos, each with one role and an expiry.
// The token is shown once; only its hash is stored. Every mint, first use, failure and revocation is audited.

export const DEFAULT_TTL_SECONDS = 12 * 3600;
export const MAX_TTL_SECONDS = 90 * 86_400;
const LAST_USED_RESOLUTION_MS = 60_000;

export const mintTokenBody = z.strictObject({
  principal: z.string().min(1).max(200).describe('Human principal the token acts as (id or name)'),
  role: z.enum(OPERATOR_ROLES),
  ttl_seconds: z.number().int().min(60).max(MAX_TTL_SECONDS).default(DEFAULT_TTL_SECONDS),
  description: z.string().max(500).optional(),
});
export const tokenSchema = z.object({
  id: z.string(),
  principal: z.object({ id: z.string(), name: z.string() }),
  role: z.enum(OPERATOR_ROLES),
  description: z.string().nullable(),
  created_at: z.string(),
  created_by: z.string().nullable(),
  expires_at: z.string(),
  revoked_at: z.string().nullable(),
  revoked_reason: z.string().nullable(),
  last_used_at: z.string().nullable(),
});
export const mintedTokenSchema = tokenSchema.extend({ token: z.string().describe('Shown once; store it now') });
export const listTokensQuery = z.strictObject({
  ...paginationQuery,
  principal: z.string().max(200).optional(),
  include_revoked: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
});
export type TokenView = z.infer<typeof tokenSchema>;

interface Deps {
  db: Database;
  audit: AuditWriter;
  clock: Clock;
}

export function createOperatorTokenService(deps: Deps) {
  const { db, audit, clock } = deps;

  async function principalByRef(trx: Database['kysely'], ref: string) {
    // The same rule as every other reference: UUIDs are ids, anything else is a name.
    const by = isUuid(ref) ? 'id' : 'name';
    return trx.selectFrom('principals').select(['id', 'name', 'kind', 'status']).where(by, '=', ref).executeTakeFirst();
  }

  async function view(q: Database['kysely'], row: OperatorTokensTable): Promise<TokenView> {
    const p = await q.selectFrom('principals').select(['id', 'name']).where('id', '=', row.principal_id).executeTakeFirstOrThrow();
    return {
      id: row.id, principal: p, role: row.role as OperatorRole, description: row.description, created_at: row.created_at,
      created_by: row.created_by, expires_at: row.expires_at, revoked_at: row.revoked_at, revoked_reason: row.revoked_reason,
      last_used_at: row.last_used_at,
    };
  }

  /** Inserts a token row and its audit event inside the caller's transaction. */
  async function insert(trx: Trx, batch: WriteBatch, actor: Actor, principal: { id: string; name: string }, role: OperatorRole, ttlSeconds: number, description: string | null) {
    const { id, token } = generateToken('op');
    const now = clock.now();
    const row: OperatorTokensTable = {
      id, principal_id: principal.id, role, description, secret_hash: hashToken(token),
      created_at: now.toISOString(), created_by: actor.principalId,
      expires_at: new Date(now.getTime() + ttlSeconds * 1000).toISOString(),
      revoked_at: null, revoked_reason: null, last_used_at: null,
    };
    await trx.insertInto('operator_tokens').values(row).execute();
    await audit.record(trx, batch, {
      type: 'credential.operator_token.issued', action: 'credential.issue', actor,
      target: { type: 'operator_token', id, name: principal.name }, outcome: 'success',
      details: { principal_id: principal.id, role, expires_at: row.expires_at, description },
    });
    return { row, token };
  }

  async function auditFailure(token: string | undefined, reason: string, provenance: Provenance, credentialId: string | null) {
    try {
      await db.write((trx, batch) => audit.record(trx, batch, {
        type: 'auth.failed', action: 'auth.authenticate',
        actor: { principalId: null, principalName: null, credentialId, authMethod: 'operator_token', role: null, teamIds: [], delegationChain: [], provenance },
        outcome: 'failure', reasons: [reason],
        details: token ? { token_hmac: audit.hmac(token) } : {},
      }));
    } catch {
      // The request is refused whether or not its failure could be recorded.
    }
  }

  async function revokeRow(trx: Trx, batch: WriteBatch, actor: Actor, row: OperatorTokensTable, reason: string | null, details: Record<string, unknown>) {
    if (row.revoked_at) return;
    await trx.updateTable('operator_tokens').set({ revoked_at: clock.now().toISOString(), revoked_reason: reason }).where('id', '=', row.id).execute();
    await audit.record(trx, batch, {
      type: 'credential.operator_token.revoked', action: 'credential.revoke', actor,
      target: { type: 'operator_token', id: row.id, name: null }, outcome: 'success',
      details: { reason, principal_id: row.principal_id, ...details },
    });
  }

  return {
    insert,

    async mint(actor: Actor, input: z.infer<typeof mintTokenBody>) {
      if (!canGrantRole(actor.role, input.role)) throw errors.forbidden(`role '${actor.role}' cannot mint '${input.role}' tokens`);
      return db.write(async (trx, batch) => {
        const p = await principalByRef(trx, input.principal);
        if (!p) throw new AppError(422, 'principal_not_found', `principal '${input.principal}' does not exist`);
        if (p.kind !== 'human') throw new AppError(422, 'principal_not_human', `operator tokens are for humans; '${p.name}' is a ${p.kind}`);
        if (p.status !== 'active') throw new AppError(422, 'principal_not_active', `principal '${p.name}' is ${p.status}`);
        const { row, token } = await insert(trx, batch, actor, p, input.role, input.ttl_seconds, input.description ?? null);
        return { ...(await view(trx, row)), token };
      });
    },

    async list(query: z.infer<typeof listTokensQuery>) {
      const after = decodeCursor(query.cursor);
      let q = db.kysely.selectFrom('operator_tokens').selectAll();
      if (query.principal) {
        const p = await principalByRef(db.kysely, query.principal);
        q = q.where('principal_id', '=', p?.id ?? '-');
      }
      if (!query.include_revoked) q = q.where('revoked_at', 'is', null);
      if (after !== undefined) q = q.where('id', '>', String(after));
      const rows = await q.orderBy('id').limit(query.limit + 1).execute();
      const page = pageOf(rows, query.limit, (r) => r.id);
      return { items: await Promise.all(page.items.map((r) => view(db.kysely, r))), next_cursor: page.next_cursor };
    },

    /** Revokes at once; used by operators. */
    async revoke(actor: Actor, id: string, reason: string | undefined) {
      return db.write(async (trx, batch) => {
        const row = await trx.selectFrom('operator_tokens').selectAll().where('id', '=', id).executeTakeFirst();
        if (!row) throw errors.notFound('operator token', id);
        await revokeRow(trx, batch, actor, row, reason ?? null, {});
        return view(trx, { ...row, revoked_at: row.revoked_at ?? clock.now().toISOString(), revoked_reason: row.revoked_at ? row.revoked_reason : reason ?? null });
      });
    },

    /**
     * For the scanner: inside the caller's transaction, confirm that a leaked token is one of ours (its id and
     * the SHA-256 prefix the scan computed match) and revoke it if it is still live. Never needs the secret.
     */
    async revokeLeaked(trx: Trx, batch: WriteBatch, actor: Actor, leak: { id: string; sha256Prefix: string }, details: Record<string, unknown>) {
      const row = await trx.selectFrom('operator_tokens').selectAll().where('id', '=', leak.id).executeTakeFirst();
      if (!row || leak.sha256Prefix.length < 16 || !row.secret_hash.startsWith(leak.sha256Prefix.toLowerCase())) {
        return { liveness: 'unknown' as const, ownerId: null, revoked: false };
      }
      if (row.revoked_at) return { liveness: 'revoked' as const, ownerId: row.principal_id, revoked: false };
      if (new Date(row.expires_at) <= clock.now()) return { liveness: 'expired' as const, ownerId: row.principal_id, revoked: false };
      await revokeRow(trx, batch, actor, row, 'leaked: found by a secret scan', details);
      return { liveness: 'revoked' as const, ownerId: row.principal_id, revoked: true };
    },

    /** Resolves a bearer token to an Actor, or throws 401. Checks format, hash, revocation, expiry and the principal. */
    async authenticate(token: string | undefined, provenance: Provenance): Promise<Actor> {
      if (!token) throw errors.unauthenticated();
      const parsed = parseCustosToken(token);
      if (!parsed || parsed.kind !== 'op') {
        await auditFailure(token, 'malformed_token', provenance, null);
        throw errors.unauthenticated('token is not a valid Custos operator token');
      }
      const row = await db.kysely.selectFrom('operator_tokens as t')
        .innerJoin('principals as p', 'p.id', 't.principal_id')
        .select(['t.id', 't.secret_hash', 't.role', 't.expires_at', 't.revoked_at', 't.last_used_at', 't.principal_id', 'p.name', 'p.status'])
        // The operator's teams come in the same query: one store round trip per authenticated request.
        .select(db.dialect === 'postgres'
          ? sql<string | null>`(select string_agg(m.team_id, ',') from team_members m where m.principal_id = t.principal_id)`.as('team_ids')
          : sql<string | null>`(select group_concat(m.team_id, ',') from team_members m where m.principal_id = t.principal_id)`.as('team_ids'))
        .where('t.id', '=', parsed.id)
        .executeTakeFirst();
      const now = clock.now();
      const failure = !row || !tokenMatches(token, row.secret_hash) ? 'unknown_token'
        : row.revoked_at ? 'token_revoked'
          : new Date(row.expires_at) <= now ? 'token_expired'
            : row.status !== 'active' ? 'principal_not_active' : null;
      if (failure || !row) {
        await auditFailure(token, failure ?? 'unknown_token', provenance, row ? parsed.id : null);
        throw errors.unauthenticated(failure === 'token_expired' ? 'token has expired' : failure === 'token_revoked' ? 'token has been revoked' : 'token is not valid');
      }
      const actor: Actor = {
        principalId: row.principal_id, principalName: row.name, credentialId: row.id, authMethod: 'operator_token',
        role: row.role as OperatorRole, teamIds: row.team_ids ? row.team_ids.split(',') : [], delegationChain: [], provenance,
      };
      if (!row.last_used_at) {
        // First use of a token is an operator sign-in: recorded before the request proceeds.
        await db.write(async (trx, batch) => {
          await trx.updateTable('operator_tokens').set({ last_used_at: now.toISOString() }).where('id', '=', row.id).execute();
          await audit.record(trx, batch, { type: 'auth.sign_in', action: 'auth.authenticate', actor, target: { type: 'operator_token', id: row.id, name: null }, outcome: 'success' });
        });
      } else if (now.getTime() - new Date(row.last_used_at).getTime() > LAST_USED_RESOLUTION_MS) {
        void db.write((trx) => trx.updateTable('operator_tokens').set({ last_used_at: now.toISOString() }).where('id', '=', row.id).execute()).catch(() => undefined);
      }
      return actor;
    },
  };
}
export type OperatorTokenService = ReturnType<typeof createOperatorTokenService>;

const tags = ['operator tokens'];

export function registerOperatorTokenRoutes(app: HttpApp, tokens: OperatorTokenService): void {
  app.post('/v1/operator-tokens', { config: { permission: 'token.create' }, schema: { tags, summary: 'Mint an operator token (shown once)', body: mintTokenBody, response: { 201: mintedTokenSchema } } },
    async (req, reply) => reply.code(201).send(await tokens.mint(req.actor, req.body)));
  app.get('/v1/operator-tokens', { config: { permission: 'token.read' }, schema: { tags, summary: 'List operator tokens (never their secrets)', querystring: listTokensQuery, response: { 200: pageSchema(tokenSchema) } } },
    async (req) => tokens.list(req.query));
  app.post('/v1/operator-tokens/:id/revoke', {
    config: { permission: 'token.revoke' },
    schema: { tags, summary: 'Revoke an operator token', params: z.strictObject({ id: z.string().regex(/^[a-z2-7]{16}$/) }), body: z.strictObject({ reason: z.string().max(1000).optional() }).optional(), response: { 200: tokenSchema } },
  }, async (req) => tokens.revoke(req.actor, req.params.id, req.body?.reason));
  app.get('/v1/whoami', {
    config: { permission: 'self.read' },
    schema: { tags, summary: 'The authenticated operator', response: { 200: z.object({ principal_id: z.string().nullable(), principal_name: z.string().nullable(), role: z.string().nullable(), credential_id: z.string().nullable(), teams: z.array(z.string()) }) } },
  }, async (req) => ({ principal_id: req.actor.principalId, principal_name: req.actor.principalName, role: req.actor.role, credential_id: req.actor.credentialId, teams: req.actor.teamIds }));
}
