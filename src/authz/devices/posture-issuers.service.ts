import crypto from 'node:crypto';
import { createLocalJWKSet, type JWK, type JWTVerifyGetKey } from 'jose';
import type { AuditWriter } from '../../audit/index.js';
import { remoteUrlProblem } from '../../credentials/index.js';
import type { Actor } from '../../platform/actor.js';
import type { Clock } from '../../platform/clock.js';
import { AppError, errors } from '../../platform/http/errors.js';
import { decodeCursor, pageOf } from '../../platform/http/pagination.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { Database, Trx, WriteBatch } from '../../platform/store/db.js';
import { isUniqueViolation } from '../../platform/store/errors.js';
import type { PostureIssuersTable } from '../../platform/store/schema.js';
import * as repo from './posture-issuers.repo.js';
import {
  DEFAULT_MAX_AGE_SECONDS, MAX_POSTURE_ISSUERS,
  type CreatePostureIssuerInput, type ListPostureIssuersQuery, type PostureIssuerView,
} from './posture-issuers.schemas.js';
import type { RemoteKeySource } from './remote-keys.js';

// Posture issuers: the MDM or EDR systems whose signed posture assertions a decision trusts (assertion.ts verifies
// them). Audited add, list, show, remove.
//
// Rules:
// - Only operators change them (an access token or API key with a device-reporting scope reports device records,
//   it never decides whom to trust): a caller without an operator role is refused whatever its permissions.
// - issuer: https (plain http only to a loopback host), stored exactly as given and compared exactly; one
//   configured issuer per `iss`. Keys: exactly one of jwks_uri (same URL rule) or an inline JWKS of public
//   asymmetric keys (RSA of 2048 bits or more, EC, OKP; no private members, no symmetric keys).
// - max_age_seconds: 60 s to 7 days, default 1 hour: an assertion issued longer ago is stale (posture unknown).
// - At most MAX_POSTURE_ISSUERS issuers. Each add and removal is audited in the same transaction
//   (`device.posture_issuer.added`, `.removed`) with the key source, never more than the public keys' count.

const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

// Settings problems are 422 invalid_posture_issuer, key problems 422 invalid_jwk, each with a detail naming the rule.
const invalid = (detail: string) => new AppError('invalid_posture_issuer', detail);
const invalidKey = (detail: string) => new AppError('invalid_jwk', detail);

export interface PostureIssuerDeps {
  db: Database;
  audit: AuditWriter;
  clock: Clock;
  newId: IdGenerator;
  remoteKeys: RemoteKeySource;
}

function checkInlineJwks(jwks: { keys: Record<string, unknown>[] }): string {
  for (const [i, key] of jwks.keys.entries()) {
    const where = `jwks.keys[${i}]`;
    const members = PRIVATE_JWK_MEMBERS.filter((m) => Object.hasOwn(key, m));
    if (key.kty === 'oct') throw invalidKey(`${where} is a symmetric key; posture issuers sign with asymmetric keys`);
    if (members.length > 0) throw invalidKey(`${where} carries private key members (${members.join(', ')}); give the public key only`);
    if (!['RSA', 'EC', 'OKP'].includes(String(key.kty))) throw invalidKey(`${where}: kty must be RSA, EC or OKP`);
    let publicKey: crypto.KeyObject;
    try {
      publicKey = crypto.createPublicKey({ key: key as crypto.JsonWebKey, format: 'jwk' });
    } catch {
      throw invalidKey(`${where} is not a valid public key`);
    }
    if (key.kty === 'RSA' && (publicKey.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) throw invalidKey(`${where} is an RSA key under 2048 bits`);
  }
  try {
    createLocalJWKSet(jwks as { keys: JWK[] });
  } catch {
    throw invalidKey('jwks is not a valid JSON Web Key Set');
  }
  return JSON.stringify({ keys: jwks.keys });
}

function view(row: PostureIssuersTable): PostureIssuerView {
  return {
    id: row.id, name: row.name, issuer: row.issuer, jwks: row.jwks ? JSON.parse(row.jwks) as PostureIssuerView['jwks'] : null,
    jwks_uri: row.jwks_uri, max_age_seconds: row.max_age_seconds, created_at: row.created_at, created_by: row.created_by,
  };
}

function requireOperator(actor: Actor): void {
  if (!actor.role) throw errors.forbidden('posture issuers are managed by operators; a device reporter cannot change whom Custos trusts');
}

export function createPostureIssuerService(deps: PostureIssuerDeps) {
  const { db, audit, clock, newId, remoteKeys } = deps;
  const localSets = new Map<string, { jwks: string; resolve: JWTVerifyGetKey }>();

  async function record(trx: Trx, batch: WriteBatch, actor: Actor, type: 'added' | 'removed', row: PostureIssuersTable, details: Record<string, unknown>) {
    await audit.record(trx, batch, {
      type: `device.posture_issuer.${type}`, action: type === 'added' ? 'device.trust' : 'device.distrust', actor,
      target: { type: 'posture_issuer', id: row.id, name: row.name }, outcome: 'success', details,
    });
  }

  return {
    /** The configured issuer for an assertion's `iss`. */
    byIssuer: (iss: string) => repo.findByIssuer(db.kysely, iss),

    /** The key resolver of one issuer: its remote JWKS, or its inline JWKS (parsed once per version of it). */
    keysOf(row: PostureIssuersTable): JWTVerifyGetKey {
      if (row.jwks_uri) return remoteKeys.resolver(row.jwks_uri);
      const cached = localSets.get(row.id);
      if (cached && cached.jwks === row.jwks) return cached.resolve;
      const local = createLocalJWKSet(JSON.parse(row.jwks ?? '{"keys":[]}') as { keys: JWK[] });
      const resolve: JWTVerifyGetKey = (header, token) => local(header, token);
      while (localSets.size >= MAX_POSTURE_ISSUERS) localSets.delete(localSets.keys().next().value!);
      localSets.set(row.id, { jwks: row.jwks ?? '', resolve });
      return resolve;
    },

    async create(actor: Actor, input: CreatePostureIssuerInput): Promise<PostureIssuerView> {
      requireOperator(actor);
      const issuerProblem = remoteUrlProblem(input.issuer);
      if (issuerProblem) throw invalid(`issuer ${issuerProblem}`);
      if ((input.jwks === undefined) === (input.jwks_uri === undefined)) throw invalid('give exactly one of jwks or jwks_uri');
      let source: { jwks: string | null; jwks_uri: string | null };
      if (input.jwks_uri !== undefined) {
        const problem = remoteUrlProblem(input.jwks_uri);
        if (problem) throw invalid(`jwks_uri ${problem}`);
        source = { jwks: null, jwks_uri: input.jwks_uri };
      } else {
        source = { jwks: checkInlineJwks(input.jwks!), jwks_uri: null };
      }
      return db.write(async (trx, batch) => {
        if (await repo.countIssuers(trx) >= MAX_POSTURE_ISSUERS) throw invalid(`at most ${MAX_POSTURE_ISSUERS} posture issuers`);
        const clash = await repo.findByIssuer(trx, input.issuer);
        if (clash) throw invalid(`issuer '${input.issuer}' is already configured as '${clash.name}'`);
        const row: PostureIssuersTable = {
          id: newId(), name: input.name, issuer: input.issuer, ...source, max_age_seconds: input.max_age_seconds ?? DEFAULT_MAX_AGE_SECONDS,
          created_at: clock.now().toISOString(), created_by: actor.principal?.id ?? null,
        };
        try {
          await repo.insertIssuer(trx, row);
        } catch (error) {
          if (isUniqueViolation(error)) throw new AppError('name_taken', `a posture issuer named '${input.name}' already exists`);
          throw error;
        }
        await record(trx, batch, actor, 'added', row, {
          issuer: row.issuer, jwks_uri: row.jwks_uri, inline_keys: input.jwks?.keys.length ?? 0, max_age_seconds: row.max_age_seconds,
          reason: input.reason ?? null,
        });
        return view(row);
      });
    },

    async get(ref: string): Promise<PostureIssuerView> {
      const row = await repo.findIssuer(db.kysely, ref);
      if (!row) throw errors.notFound('posture issuer', ref);
      return view(row);
    },

    async list(query: ListPostureIssuersQuery) {
      const after = decodeCursor(query.cursor);
      const rows = await repo.listIssuers(db.kysely, { afterId: after === undefined ? undefined : String(after), limit: query.limit + 1 });
      const page = pageOf(rows, query.limit, (r) => r.id);
      return { items: page.items.map(view), next_cursor: page.next_cursor };
    },

    async remove(actor: Actor, ref: string, reason: string | undefined): Promise<void> {
      requireOperator(actor);
      const row = await db.write(async (trx, batch) => {
        const found = await repo.findIssuer(trx, ref);
        if (!found) throw errors.notFound('posture issuer', ref);
        await repo.deleteIssuer(trx, found.id);
        await record(trx, batch, actor, 'removed', found, { issuer: found.issuer, reason: reason ?? null });
        return found;
      });
      localSets.delete(row.id);
      if (row.jwks_uri) remoteKeys.invalidate(row.jwks_uri);
    },
  };
}
export type PostureIssuerService = ReturnType<typeof createPostureIssuerService>;
