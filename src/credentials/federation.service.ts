import crypto from 'node:crypto';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JWK, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { AuditWriter } from '../audit/index.js';
import type { Actor } from '../platform/actor.js';
import type { Clock } from '../platform/clock.js';
import { AppError, errors } from '../platform/http/errors.js';
import { decodeCursor, pageOf } from '../platform/http/pagination.js';
import { newId as defaultNewId, type IdGenerator } from '../platform/ids.js';
import type { Database, Trx, WriteBatch } from '../platform/store/db.js';
import { isUniqueViolation } from '../platform/store/errors.js';
import type { FederationIssuersTable } from '../platform/store/schema.js';
import type { CredentialDirectory, FederatedIdentity, FederationVerifier } from './contracts.js';
import { resolveMappings, type ClaimMapping } from './federation-mapping.js';
import * as repo from './federation.repo.js';
import {
  ASYMMETRIC_ALGORITHMS, DEFAULT_ALGORITHMS, MAX_CONDITIONS,
  type CreateIssuerInput, type IssuerView, type ListIssuersQuery, type MappingInput, type UpdateIssuerInput,
} from './federation.schemas.js';
import { OAuthError } from './oauth-errors.js';
import { JwksUnavailable, createRemoteJwksCache, remoteUrlProblem, type RemoteJwksCache } from './remote-jwks.js';

// Workload identity federation (RFC 7523 §2.1, the jwt-bearer grant): a CI job or a pod presents a JWT its
// platform issued (GitHub Actions, a Kubernetes cluster, …); if a trusted issuer configured here vouches for
// it and exactly one mapping fits its claims, it acts as that non-human principal. This file manages the
// trusted issuers (audited CRUD) and implements FederationVerifier for the token endpoint.
//
// Rules for trusted issuers:
// - issuer: https (plain http only to a loopback host), stored exactly as given (it is compared exactly);
//   one trusted issuer per `iss`. Keys: exactly one of a JWKS URL (same URL rule) or an inline JWKS of
//   public asymmetric keys (no private members, no symmetric keys, RSA of 2048 bits or more).
// - algorithms: asymmetric only, default RS256, ES256, EdDSA. audience: required.
// - mappings: at least one; each names an existing non-human principal (stored by id, shown by name) and at
//   least one claim condition; exp, iat and nbf are the verifier's and cannot be conditions.
// - Every add, change and removal is audited in the same transaction (credential.federation.*).
//
// Rules for assertions (verifyAssertion): refusals are OAuthError('invalid_grant') whose detail never
// quotes the assertion.
// - The unverified `iss` only selects the trusted issuer (none, or more than one → refused); everything is
//   then checked by jose against that issuer's keys: the algorithm from the issuer's list (never the
//   header's word alone; `none` and HS* are never listed), signature, `iss`, `aud`, `exp`/`nbf` with 30 s
//   leeway, `exp`, `iat` and `sub` required, `iat` within max_token_age_seconds when set. Header `jku`,
//   `x5u` and `jwk` are ignored: keys come only from the configured source.
// - Explicitly typed tokens of another kind (`typ` at+jwt, dpop+jwt) are refused: an access token or a DPoP
//   proof is not a workload identity.
// - A JWKS that cannot be fetched refuses the assertion (fail closed; see remote-jwks.ts).
// - Exactly one principal: zero matching mappings → "no mapping", two principals → "ambiguous".
// - Whether the principal may get a token now (its status, scopes, purposes) is the token endpoint's check,
//   as for every other grant; replay of `jti` likewise (jti is returned, and single use there).
// - An assertion without `jti` could be replayed for its whole life: it is refused unless the trusted issuer sets
//   max_token_age_seconds, which bounds that window (some issuers mint no jti).

export const ASSERTION_CLOCK_TOLERANCE_SECONDS = 30;
const MAX_ASSERTION_LENGTH = 16 * 1024;
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const RESERVED_CLAIMS = new Set(['exp', 'iat', 'nbf']);
const REFUSED_TYPES = new Set(['at+jwt', 'dpop+jwt']);

export interface FederationDeps {
  db: Database;
  audit: AuditWriter;
  clock: Clock;
  directory: Pick<CredentialDirectory, 'principal' | 'principalNames'>;
  /** Remote JWKS cache; one with the defaults (on `clock`) when not given. */
  jwks?: RemoteJwksCache;
  newId?: IdGenerator;
}

interface StoredMapping {
  principal_id: string;
  claims: Record<string, string | string[]>;
}

const invalid = (detail: string) => new AppError('invalid_federation', detail);
const refuse = (detail: string) => new OAuthError('invalid_grant', detail);

function parseMappings(row: FederationIssuersTable): StoredMapping[] {
  return JSON.parse(row.mappings) as StoredMapping[];
}

/** Checks an inline JWKS: public asymmetric keys only, each importable. Returns it as stored. */
function checkInlineJwks(jwks: { keys: Record<string, unknown>[] }): string {
  jwks.keys.forEach((key, i) => {
    const where = `jwks.keys[${i}]`;
    const priv = PRIVATE_JWK_MEMBERS.filter((m) => Object.hasOwn(key, m));
    if (key.kty === 'oct') throw invalid(`${where} is a symmetric key; only public asymmetric keys are accepted`);
    if (priv.length > 0) throw invalid(`${where} carries private key members (${priv.join(', ')}); give the public key only`);
    if (!['RSA', 'EC', 'OKP'].includes(String(key.kty))) throw invalid(`${where} has kty '${String(key.kty)}'; RSA, EC or OKP keys only`);
    let publicKey: crypto.KeyObject;
    try {
      publicKey = crypto.createPublicKey({ key: key as crypto.JsonWebKey, format: 'jwk' });
    } catch {
      throw invalid(`${where} is not a valid public key`);
    }
    if (key.kty === 'RSA' && (publicKey.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) throw invalid(`${where} is an RSA key under 2048 bits`);
  });
  try {
    createLocalJWKSet(jwks as { keys: JWK[] });
  } catch {
    throw invalid('jwks is not a valid JSON Web Key Set');
  }
  return JSON.stringify({ keys: jwks.keys });
}

function checkAlgorithms(algorithms: readonly string[] | undefined): string[] {
  const list = [...new Set(algorithms ?? DEFAULT_ALGORITHMS)];
  for (const alg of list) {
    if (!(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg)) {
      throw invalid(`algorithm '${alg}' is not accepted: asymmetric algorithms only (${ASYMMETRIC_ALGORITHMS.join(', ')})`);
    }
  }
  return list;
}

/** What jose's refusal means, in words that never quote the assertion. */
function describeFailure(error: unknown): string {
  if (error instanceof JwksUnavailable) return `its keys are unavailable (${error.message}); refused rather than trusted on old keys`;
  const e = error as { code?: string; claim?: string; reason?: string };
  switch (e.code) {
    case 'ERR_JWT_EXPIRED':
      return e.claim === 'iat' ? 'the assertion is older than this issuer\'s max_token_age_seconds' : 'the assertion has expired';
    case 'ERR_JOSE_ALG_NOT_ALLOWED': return 'the assertion\'s algorithm is not accepted for this issuer';
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED': return 'the assertion\'s signature does not verify';
    case 'ERR_JWKS_NO_MATCHING_KEY': return 'no key of this issuer matches the assertion\'s kid and alg';
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS': return 'more than one key of this issuer matches; the assertion needs a kid';
    case 'ERR_JOSE_NOT_SUPPORTED': return 'the assertion uses an unsupported algorithm or key';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (e.reason === 'missing') return `the assertion has no '${e.claim}' claim`;
      if (e.claim === 'aud') return 'the assertion\'s aud is not this issuer\'s configured audience';
      if (e.claim === 'iss') return 'the assertion\'s iss is not this issuer';
      if (e.claim === 'nbf') return 'the assertion is not yet valid';
      if (e.claim === 'iat') return 'the assertion\'s iat is invalid (in the future, or not a number)';
      return `the assertion's '${e.claim}' claim is invalid`;
    default: return 'the assertion is malformed or could not be verified';
  }
}

export function createFederationService(deps: FederationDeps) {
  const { db, audit, clock, directory } = deps;
  const jwks = deps.jwks ?? createRemoteJwksCache({ clock });
  const newId = deps.newId ?? defaultNewId;

  async function views(rows: FederationIssuersTable[], trx?: Trx): Promise<IssuerView[]> {
    const parsed = rows.map((row) => ({ row, mappings: parseMappings(row) }));
    const names = await directory.principalNames([...new Set(parsed.flatMap((p) => p.mappings.map((m) => m.principal_id)))], trx);
    return parsed.map(({ row, mappings }) => ({
      id: row.id, name: row.name, issuer: row.issuer, jwks_url: row.jwks_url,
      jwks: row.jwks ? JSON.parse(row.jwks) as IssuerView['jwks'] : null,
      audience: row.audience, algorithms: JSON.parse(row.algorithms) as string[],
      mappings: mappings.map((m) => ({ principal: { id: m.principal_id, name: names.get(m.principal_id) ?? m.principal_id }, claims: m.claims })),
      max_token_age_seconds: row.max_token_age_seconds, created_at: row.created_at, created_by: row.created_by, updated_at: row.updated_at,
    }));
  }

  async function load(trx: Trx | Database['kysely'], ref: string): Promise<FederationIssuersTable> {
    const row = await repo.findIssuer(trx, ref);
    if (!row) throw errors.notFound('trusted issuer', ref);
    return row;
  }

  async function checkMappings(trx: Trx, mappings: MappingInput[]): Promise<StoredMapping[]> {
    const out: StoredMapping[] = [];
    for (const [i, m] of mappings.entries()) {
      const where = `mappings[${i}]`;
      const names = Object.keys(m.claims);
      if (names.length === 0) throw invalid(`${where} has no claim conditions; a mapping must narrow who it admits (e.g. repository, ref, kubernetes.io.namespace)`);
      if (names.length > MAX_CONDITIONS) throw invalid(`${where} has more than ${MAX_CONDITIONS} conditions`);
      const reserved = names.filter((n) => RESERVED_CLAIMS.has(n));
      if (reserved.length > 0) throw invalid(`${where}: ${reserved.join(', ')} cannot be conditions (the verifier checks them)`);
      const p = await directory.principal(m.principal, trx);
      if (!p) throw invalid(`${where}: principal '${m.principal}' does not exist`);
      if (p.kind === 'human') throw invalid(`${where}: '${p.name}' is a human; federation maps workloads to non-human principals`);
      out.push({ principal_id: p.id, claims: m.claims });
    }
    return out;
  }

  function keySource(input: { jwks_url?: string; jwks?: { keys: Record<string, unknown>[] } }): { jwks_url: string | null; jwks: string | null } {
    if ((input.jwks_url === undefined) === (input.jwks === undefined)) throw invalid('give exactly one of jwks_url or jwks');
    if (input.jwks_url !== undefined) {
      const problem = remoteUrlProblem(input.jwks_url);
      if (problem) throw invalid(`jwks_url ${problem}`);
      return { jwks_url: input.jwks_url, jwks: null };
    }
    return { jwks_url: null, jwks: checkInlineJwks(input.jwks!) };
  }

  async function record(trx: Trx, batch: WriteBatch, actor: Actor, type: 'added' | 'updated' | 'removed', row: FederationIssuersTable, details: Record<string, unknown>) {
    const action = type === 'added' ? 'credential.issue' : type === 'updated' ? 'credential.rotate' : 'credential.revoke';
    await audit.record(trx, batch, {
      type: `credential.federation.${type}`, action, actor, target: { type: 'federation_issuer', id: row.id, name: row.name }, outcome: 'success', details,
    });
  }

  /** The key resolver for one trusted issuer: its remote JWKS (cached) or its inline JWKS. */
  function keysOf(row: FederationIssuersTable): JWTVerifyGetKey {
    if (row.jwks_url) return jwks.resolver(row.jwks_url);
    const local = createLocalJWKSet(JSON.parse(row.jwks ?? '{"keys":[]}') as { keys: JWK[] });
    return (header, token) => local(header, token);
  }

  async function verifyAssertion(assertion: string): Promise<FederatedIdentity> {
    if (typeof assertion !== 'string' || assertion.length === 0) throw refuse('no assertion was given');
    if (assertion.length > MAX_ASSERTION_LENGTH) throw refuse(`the assertion is longer than ${MAX_ASSERTION_LENGTH} characters`);
    let unverified: JWTPayload;
    let typ: string | undefined;
    try {
      unverified = decodeJwt(assertion);
      typ = decodeProtectedHeader(assertion).typ;
    } catch {
      throw refuse('the assertion is not a JWT');
    }
    if (typeof unverified.iss !== 'string' || unverified.iss.length === 0) throw refuse('the assertion has no iss claim');
    const rows = await repo.findByIssuer(db.kysely, unverified.iss);
    if (rows.length === 0) throw refuse('the assertion\'s issuer is not a trusted issuer');
    if (rows.length > 1) throw refuse('more than one trusted issuer is configured for the assertion\'s issuer; refused until that is fixed');
    const row = rows[0]!;
    const named = (detail: string) => refuse(`trusted issuer '${row.name}': ${detail}`);
    if (typeof typ === 'string' && REFUSED_TYPES.has(typ.toLowerCase().replace(/^application\//, ''))) {
      throw named(`a token of type '${typ}' is not a workload identity assertion`);
    }

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(assertion, keysOf(row), {
        algorithms: JSON.parse(row.algorithms) as string[],
        issuer: row.issuer,
        audience: row.audience,
        clockTolerance: ASSERTION_CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['exp', 'iat', 'sub'],
        ...(row.max_token_age_seconds !== null ? { maxTokenAge: row.max_token_age_seconds } : {}),
        currentDate: clock.now(),
      }));
    } catch (error) {
      throw named(describeFailure(error));
    }
    if (typeof payload.sub !== 'string' || payload.sub.length === 0) throw named('the assertion has no sub claim');
    const hasJti = typeof payload.jti === 'string' && payload.jti.length > 0 && payload.jti.length <= 256;
    if (!hasJti && row.max_token_age_seconds === null) {
      throw named('the assertion has no jti, so it could be replayed; set max_token_age_seconds on this issuer if it issues none');
    }

    const mappings: ClaimMapping[] = parseMappings(row).map((m) => ({ principalId: m.principal_id, claims: m.claims }));
    const result = resolveMappings(payload, mappings);
    if (result.outcome === 'none') throw named('no mapping matches the assertion\'s claims');
    if (result.outcome === 'ambiguous') throw named(`the assertion's claims match mappings of ${result.principalIds.length} different principals (ambiguous); refused`);
    return {
      principalId: result.principalId,
      issuerName: row.name,
      issuer: row.issuer,
      subject: payload.sub,
      jti: hasJti ? payload.jti as string : null,
      expiresAt: payload.exp!,
    };
  }

  const service = {
    verifyAssertion,

    async create(actor: Actor, input: CreateIssuerInput): Promise<IssuerView> {
      const issuerProblem = remoteUrlProblem(input.issuer);
      if (issuerProblem) throw invalid(`issuer ${issuerProblem}`);
      const source = keySource(input);
      const algorithms = checkAlgorithms(input.algorithms);
      return db.write(async (trx, batch) => {
        const mappings = await checkMappings(trx, input.mappings);
        const clash = await repo.findByIssuer(trx, input.issuer, 1);
        if (clash[0]) throw invalid(`issuer '${input.issuer}' is already trusted as '${clash[0].name}'; change that one instead`);
        const now = clock.now().toISOString();
        const row: FederationIssuersTable = {
          id: newId(), name: input.name, issuer: input.issuer, ...source, audience: input.audience,
          algorithms: JSON.stringify(algorithms), mappings: JSON.stringify(mappings),
          max_token_age_seconds: input.max_token_age_seconds ?? null, created_at: now, created_by: actor.principal?.id ?? null, updated_at: now,
        };
        try {
          await repo.insertIssuer(trx, row);
        } catch (error) {
          if (isUniqueViolation(error)) throw new AppError('name_taken', `a trusted issuer named '${input.name}' already exists`);
          throw error;
        }
        await record(trx, batch, actor, 'added', row, {
          issuer: row.issuer, jwks_url: row.jwks_url, inline_keys: source.jwks ? input.jwks!.keys.length : 0, audience: row.audience,
          algorithms, mappings, max_token_age_seconds: row.max_token_age_seconds, reason: input.reason ?? null,
        });
        return (await views([row], trx))[0]!;
      });
    },

    async get(ref: string): Promise<IssuerView> {
      return (await views([await load(db.kysely, ref)]))[0]!;
    },

    async list(query: ListIssuersQuery) {
      const after = decodeCursor(query.cursor);
      const rows = await repo.listIssuers(db.kysely, { afterId: after === undefined ? undefined : String(after), limit: query.limit + 1 });
      const page = pageOf(rows, query.limit, (r) => r.id);
      return { items: await views(page.items), next_cursor: page.next_cursor };
    },

    async update(actor: Actor, ref: string, input: UpdateIssuerInput): Promise<IssuerView> {
      const source = input.jwks_url !== undefined || input.jwks !== undefined ? keySource(input) : undefined;
      const algorithms = input.algorithms !== undefined ? checkAlgorithms(input.algorithms) : undefined;
      const { view, oldUrl } = await db.write(async (trx, batch) => {
        const row = await load(trx, ref);
        const mappings = input.mappings !== undefined ? await checkMappings(trx, input.mappings) : undefined;
        const patch = {
          ...(source ?? {}),
          ...(input.audience !== undefined ? { audience: input.audience } : {}),
          ...(algorithms ? { algorithms: JSON.stringify(algorithms) } : {}),
          ...(mappings ? { mappings: JSON.stringify(mappings) } : {}),
          ...(input.max_token_age_seconds !== undefined ? { max_token_age_seconds: input.max_token_age_seconds } : {}),
          updated_at: clock.now().toISOString(),
        };
        await repo.updateIssuer(trx, row.id, patch);
        const changed = Object.keys(patch).filter((k) => k !== 'updated_at');
        await record(trx, batch, actor, 'updated', row, {
          changed, ...(source ? { jwks_url: source.jwks_url, inline_keys: source.jwks ? input.jwks!.keys.length : 0 } : {}),
          ...(input.audience !== undefined ? { audience: input.audience } : {}), ...(algorithms ? { algorithms } : {}),
          ...(mappings ? { mappings } : {}), ...(input.max_token_age_seconds !== undefined ? { max_token_age_seconds: input.max_token_age_seconds } : {}),
          reason: input.reason ?? null,
        });
        return { view: (await views([await load(trx, row.id)], trx))[0]!, oldUrl: row.jwks_url };
      });
      if (oldUrl) jwks.invalidate(oldUrl);
      return view;
    },

    async remove(actor: Actor, ref: string, reason: string | undefined): Promise<void> {
      const oldUrl = await db.write(async (trx, batch) => {
        const row = await load(trx, ref);
        await repo.deleteIssuer(trx, row.id);
        await record(trx, batch, actor, 'removed', row, { issuer: row.issuer, reason: reason ?? null });
        return row.jwks_url;
      });
      if (oldUrl) jwks.invalidate(oldUrl);
    },
  };
  return service satisfies FederationVerifier;
}
export type FederationService = ReturnType<typeof createFederationService>;
