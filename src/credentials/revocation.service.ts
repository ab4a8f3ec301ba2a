import type { AuditInput } from '../audit/index.js';
import type { Actor } from '../platform/actor.js';
import type { Clock } from '../platform/clock.js';
import { errors } from '../platform/http/errors.js';
import type { Database, Trx, WriteBatch } from '../platform/store/db.js';
import type { OAuthTokensTable } from '../platform/store/schema.js';
import type { PrincipalCredentialRevoker, RevocationState, TokenRef } from './contracts.js';
import * as revocations from './revocations.repo.js';
import * as tokens from './tokens.repo.js';

// Revocation in cascade, and the in-memory state every verification consults.
//
// Every revocation is rows in the versioned revocation list (`revocations`) plus, for issued access tokens,
// their `oauth_tokens` rows marked revoked, and one audit event, all in one transaction. After the commit the
// entries are applied in this node's memory, so `isRevoked` (synchronous, no store round trip) answers at once;
// other nodes follow the list by version (`refresh`, on a timer).
//
// Rules:
// - A token is revoked with every token derived from it at any depth (its delegation family below it): each
//   gets its own 'token' entry, because a verifier knows a token's jti, never its ancestors'. Tokens minted from
//   a revoked parent are impossible: the exchange refuses a revoked subject token.
// - A credential (client secret, client key, API key) revoked: a 'credential' entry (every token carrying that
//   credential id is dead) and 'token' entries for the tokens derived from them (those carry the actor's
//   credential, not this one).
// - A principal revoked (suspend, decommission, "revoke everything it holds"): a 'principal' entry with
//   not_before = now. Every token issued at or before that second whose sub or act chain names the principal is
//   dead; tokens issued later are not affected by it (while the principal is not active none are issued). Its
//   live token rows are marked revoked, and every holder (API keys, client secrets, client keys) revokes what
//   the principal holds, in the same transaction.
// - Idempotent: revoking what is revoked changes nothing, writes nothing, and says already_revoked.
// - Applied in memory only after the commit: a rolled-back revocation never shows. Inside the caller's
//   transaction (identity's suspend, the API key service) the entries are applied after that transaction
//   commits (the batch's afterCommit hook when the store offers one; otherwise a refresh queued behind it).
// - Forgetting (`prune`): an entry is kept until nothing it covers can still verify: 'token' until the token's
//   expiry; 'credential' and 'principal' until the latest expiry of any token they cover, and at least
//   `maxTokenLifetimeMs` (default 24 h, above every tier's maximum access-token lifetime) after the revocation,
//   so a token issued concurrently on another node is covered too; each plus `leewayMs` (default 60 s, twice
//   the verifier's largest clock leeway).
// - `version()` is the list version this node has read up to; every change of the in-memory state is also
//   announced to subscribers (a verified-token cache clears on it).

export const DEFAULT_POLL_INTERVAL_MS = 1000;
/** Polls without a successful read after which the node is unready and verification fails closed. */
export const STALE_AFTER_POLLS = 5;
export const DEFAULT_MAX_TOKEN_LIFETIME_MS = 24 * 3600_000;
export const DEFAULT_LEEWAY_MS = 60_000;
const PRUNE_EVERY_MS = 3600_000;
const REFRESH_PAGE = 1000;
/** Audit details list at most this many cascaded jtis (and always the count). */
export const MAX_CASCADE_IN_AUDIT = 1000;

/** What revokes the credentials a principal holds (the API key, client secret and client key services). */
export interface CredentialHolder {
  revokeAllOf(trx: Trx, batch: WriteBatch, actor: Actor, principalId: string, reason: string): Promise<unknown>;
  /** The principal holding `credentialId`, when this holder issued it. */
  principalOf?(credentialId: string, trx?: Trx): Promise<string | undefined>;
  /** Revokes one credential this holder issued (calling onCredentialRevoked itself); undefined when it is not its own. */
  revokeOne?(trx: Trx, batch: WriteBatch, actor: Actor, credentialId: string, reason: string): Promise<'revoked' | 'already_revoked' | undefined>;
}

export interface RevocationServiceDeps {
  db: Database;
  audit: { record(trx: Trx, batch: WriteBatch, input: AuditInput): Promise<unknown> };
  clock: Clock;
  holders?: CredentialHolder[];
  pollIntervalMs?: number;
  maxTokenLifetimeMs?: number;
  leewayMs?: number;
  /** Called when a timed refresh or prune fails (the state is kept; the next tick retries). */
  onError?: (error: unknown) => void;
}

export interface TokenRevocation {
  jti: string;
  principal_id: string;
  revoked_at: string;
  already_revoked: boolean;
  /** Tokens derived from it that this call revoked. */
  cascade: string[];
}

export interface FamilyRevocation {
  family_id: string;
  revoked_at: string;
  already_revoked: boolean;
  cascade: string[];
}

export interface CredentialRevocation {
  credential_id: string;
  revoked_at: string;
  already_revoked: boolean;
  cascade: string[];
}

export interface PrincipalRevocation {
  principal_id: string;
  revoked_at: string;
  not_before: string;
  cascade: string[];
}

/** A store may offer an after-commit hook on the batch (callbacks of a job rolled back are dropped). */
interface BatchWithAfterCommit { afterCommit?: (fn: () => void) => void }
const COLLECT = Symbol('revocation.collect');

function later(a: string | null, b: string | null): string | null {
  if (a === null) return b;
  if (b === null) return a;
  return a > b ? a : b;
}

function cascadeDetails(jtis: string[]) {
  return { cascade: jtis.slice(0, MAX_CASCADE_IN_AUDIT), cascade_count: jtis.length };
}

/** The pure state: what is revoked, by which rule. Exported for exact tests. */
export function createRevocationMemory() {
  const tokenEntries = new Map<string, number>();
  const credentialEntries = new Map<string, number>();
  const principalEntries = new Map<string, { notBefore: number; forgetAfter: number }>();
  const forget = (iso: string | null) => (iso === null ? Number.POSITIVE_INFINITY : Date.parse(iso));

  return {
    /** Applies list rows; returns whether anything changed. Rows already forgotten at `nowMs` are skipped. */
    apply(rows: revocations.RevocationRow[], nowMs: number): boolean {
      let changed = false;
      for (const row of rows) {
        const forgetAfter = forget(row.forget_after);
        if (forgetAfter <= nowMs) continue;
        if (row.kind === 'token' || row.kind === 'credential') {
          const map = row.kind === 'token' ? tokenEntries : credentialEntries;
          const had = map.get(row.target);
          if (had === undefined || had < forgetAfter) { map.set(row.target, forgetAfter); changed ||= had === undefined; }
        } else if (row.kind === 'principal') {
          const notBefore = Math.floor(Date.parse(row.not_before ?? row.revoked_at) / 1000);
          const had = principalEntries.get(row.target);
          if (!had || had.notBefore < notBefore || had.forgetAfter < forgetAfter) {
            principalEntries.set(row.target, { notBefore: Math.max(had?.notBefore ?? notBefore, notBefore), forgetAfter: Math.max(had?.forgetAfter ?? 0, forgetAfter) });
            changed ||= !had || had.notBefore < notBefore;
          }
        }
        // 'family' entries are not written (a verifier does not know a token's family); each member has its own.
      }
      return changed;
    },
    isRevoked(ref: TokenRef): boolean {
      if (tokenEntries.has(ref.jti)) return true;
      if (ref.credentialId !== null && credentialEntries.has(ref.credentialId)) return true;
      for (const id of [ref.principalId, ...ref.actChain]) {
        const p = principalEntries.get(id);
        if (p && p.notBefore >= ref.issuedAt) return true;
      }
      return false;
    },
    forgetUpTo(nowMs: number): void {
      for (const map of [tokenEntries, credentialEntries]) for (const [k, v] of map) if (v <= nowMs) map.delete(k);
      for (const [k, v] of principalEntries) if (v.forgetAfter <= nowMs) principalEntries.delete(k);
    },
    clear(): void {
      tokenEntries.clear(); credentialEntries.clear(); principalEntries.clear();
    },
    size(): number {
      return tokenEntries.size + credentialEntries.size + principalEntries.size;
    },
  };
}

export function createRevocationService(deps: RevocationServiceDeps) {
  const { db, audit, clock } = deps;
  const holders = deps.holders ?? [];
  const pollIntervalMs = deps.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const maxLifetimeMs = deps.maxTokenLifetimeMs ?? DEFAULT_MAX_TOKEN_LIFETIME_MS;
  const leewayMs = deps.leewayMs ?? DEFAULT_LEEWAY_MS;

  const memory = createRevocationMemory();
  const listeners = new Set<(version: number) => void>();
  let cursor = 0;
  let refreshing: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let lastPrune = 0;
  let lastRefreshError: string | undefined;
  // Wall-clock (monotonic) time of the last successful read: a read that hangs (a dead connection) must turn the
  // node unready, not leave it serving on a list it no longer follows.
  let lastRefreshedAt = performance.now();
  const pending = new Set<Promise<void>>();

  const nowIso = () => clock.now().toISOString();
  const plusLeeway = (iso: string) => new Date(Date.parse(iso) + leewayMs).toISOString();

  function notify(): void {
    for (const listener of listeners) {
      try { listener(cursor); } catch { /* a listener's failure is its own */ }
    }
  }

  /** Applies entries this node committed; the cursor moves only by reading the list (refresh), so no other node's
   * entry with a smaller version is skipped. */
  function apply(rows: revocations.RevocationRow[]): void {
    if (memory.apply(rows, clock.now().getTime())) notify();
  }

  /** Reads every entry after the cursor, in version order (serialised: one read at a time). */
  function refresh(): Promise<void> {
    const run = (refreshing ?? Promise.resolve()).then(async () => {
      let changed = false;
      for (;;) {
        const rows = await revocations.revocationsSince(db.kysely, cursor, REFRESH_PAGE);
        if (rows.length === 0) break;
        memory.apply(rows, clock.now().getTime());
        cursor = Number(rows[rows.length - 1]!.version);
        changed = true;
        if (rows.length < REFRESH_PAGE) break;
      }
      lastRefreshError = undefined;
      lastRefreshedAt = performance.now();
      if (changed) notify();
    });
    const settled = run.catch((error: unknown) => {
      lastRefreshError = (error as Error)?.message ?? String(error);
      throw error;
    });
    refreshing = settled.catch(() => undefined);
    return settled;
  }

  const refreshQuietly = () => refresh().catch((error: unknown) => deps.onError?.(error));

  /** After our own transaction committed: apply its entries at once, then advance the cursor past them. */
  async function committed(rows: revocations.RevocationRow[]): Promise<void> {
    apply(rows);
    await refreshQuietly();
  }

  /** Inside a caller's transaction: apply the entries only once that transaction has committed. */
  function afterCommit(batch: WriteBatch, rows: revocations.RevocationRow[]): void {
    if (rows.length === 0) return;
    const collector = (batch as WriteBatch & { [COLLECT]?: revocations.RevocationRow[] })[COLLECT];
    if (collector) { collector.push(...rows); return; }
    const hook = (batch as WriteBatch & BatchWithAfterCommit).afterCommit;
    if (typeof hook === 'function') {
      hook.call(batch, () => { apply(rows); void refreshQuietly(); });
      return;
    }
    // Without a hook: a job queued now runs in the next batch, which starts only after this one has committed
    // (or rolled back); the refresh then reads what was committed, and nothing that was not.
    const p: Promise<void> = db.write(async () => undefined).then(refreshQuietly, refreshQuietly).finally(() => { pending.delete(p); });
    pending.add(p);
  }

  function liveAt(row: OAuthTokensTable, nowMs: number): boolean {
    return row.revoked_at === null && Date.parse(row.expires_at) + leewayMs > nowMs;
  }

  /** Marks rows revoked and writes a 'token' entry for each that can still verify. */
  async function revokeRows(trx: Trx, rows: OAuthTokensTable[], at: string, reason: string | null): Promise<revocations.RevocationRow[]> {
    if (rows.length === 0) return [];
    await tokens.markRevoked(trx, rows.map((r) => r.jti), at, reason);
    const atMs = Date.parse(at);
    return revocations.insertRevocations(trx, rows
      .filter((r) => Date.parse(r.expires_at) + leewayMs > atMs)
      .map((r) => ({ kind: 'token' as const, target: r.jti, revoked_at: at, not_before: null, forget_after: plusLeeway(r.expires_at) })));
  }

  async function revokeTokenIn(trx: Trx, batch: WriteBatch, actor: Actor, jti: string, reason: string | null): Promise<TokenRevocation | undefined> {
    const row = await tokens.findToken(trx, jti);
    if (!row) return undefined;
    const at = nowIso();
    const nowMs = Date.parse(at);
    const descendants = await tokens.descendantsOf(trx, jti);
    const targets = [row, ...descendants].filter((r) => liveAt(r, nowMs) || (r.jti === jti && r.revoked_at === null));
    const cascade = targets.filter((r) => r.jti !== jti).map((r) => r.jti);
    const entries = await revokeRows(trx, targets, at, reason);
    if (targets.length > 0) {
      await audit.record(trx, batch, {
        type: 'credential.token.revoked', action: 'credential.revoke', actor,
        target: { type: 'access_token', id: jti, name: null }, outcome: 'success',
        details: { jti, principal_id: row.principal_id, family_id: row.family_id, ...cascadeDetails(cascade), reason },
      });
    }
    afterCommit(batch, entries);
    return {
      jti, principal_id: row.principal_id, revoked_at: row.revoked_at ?? at, already_revoked: row.revoked_at !== null, cascade,
    };
  }

  async function revokeFamilyIn(trx: Trx, batch: WriteBatch, actor: Actor, familyId: string, reason: string | null): Promise<FamilyRevocation | undefined> {
    const members = await tokens.tokensOfFamily(trx, familyId);
    if (members.length === 0) return undefined;
    const at = nowIso();
    const nowMs = Date.parse(at);
    const targets = members.filter((r) => liveAt(r, nowMs));
    const entries = await revokeRows(trx, targets, at, reason);
    if (targets.length > 0) {
      await audit.record(trx, batch, {
        type: 'credential.token_family.revoked', action: 'credential.revoke', actor,
        target: { type: 'token_family', id: familyId, name: null }, outcome: 'success',
        details: { family_id: familyId, principal_id: members[0]!.principal_id, ...cascadeDetails(targets.map((r) => r.jti)), reason },
      });
    }
    afterCommit(batch, entries);
    const earliest = members.map((m) => m.revoked_at).filter((v): v is string => v !== null).sort()[0];
    return { family_id: familyId, revoked_at: targets.length > 0 ? at : earliest ?? at, already_revoked: targets.length === 0, cascade: targets.map((r) => r.jti) };
  }

  /** Every live token obtained with the credential, and their descendants, revoked; a 'credential' entry. */
  async function onCredentialRevoked(trx: Trx, batch: WriteBatch, actor: Actor, credentialId: string, reason: string | null): Promise<CredentialRevocation> {
    const at = nowIso();
    const nowMs = Date.parse(at);
    const existing = await revocations.findRevocation(trx, 'credential', credentialId);
    const covered = await tokens.tokensFromCredential(trx, credentialId);
    const targets = covered.filter((r) => liveAt(r, nowMs));
    // Every covered token gets its own entry: an access token does not carry the credential it was obtained with,
    // so verifiers can only find it dead by its jti (the 'credential' entry serves callers that know the credential).
    const entries = await revokeRows(trx, targets, at, reason);
    const alreadyRevoked = existing !== undefined && targets.length === 0;
    if (!existing) {
      const latest = covered.reduce<string | null>((acc, r) => later(acc, r.expires_at), null);
      const floor = new Date(nowMs + maxLifetimeMs).toISOString();
      entries.push(...await revocations.insertRevocations(trx, [{
        kind: 'credential', target: credentialId, revoked_at: at, not_before: null, forget_after: plusLeeway(later(latest, floor)!),
      }]));
    }
    if (!alreadyRevoked) {
      await audit.record(trx, batch, {
        type: 'credential.token.revoked', action: 'credential.revoke', actor,
        target: { type: 'credential', id: credentialId, name: null }, outcome: 'success',
        details: { jti: null, credential_id: credentialId, ...cascadeDetails(targets.map((r) => r.jti)), reason },
      });
    }
    afterCommit(batch, entries);
    return { credential_id: credentialId, revoked_at: existing?.revoked_at ?? at, already_revoked: alreadyRevoked, cascade: targets.map((r) => r.jti) };
  }

  /** PrincipalCredentialRevoker: everything the principal holds or takes part in, dead from now. */
  async function revokePrincipalIn(trx: Trx, batch: WriteBatch, actor: Actor, principalId: string, reason: string | null): Promise<PrincipalRevocation> {
    const at = nowIso();
    const nowMs = Date.parse(at);
    const live = await tokens.liveTokensOf(trx, principalId, new Date(nowMs - leewayMs).toISOString());
    await tokens.markRevoked(trx, live.map((r) => r.jti), at, reason);
    const latest = await tokens.latestExpiryOf(trx, principalId);
    const floor = new Date(nowMs + maxLifetimeMs).toISOString();
    const entries = await revocations.insertRevocations(trx, [{
      kind: 'principal', target: principalId, revoked_at: at, not_before: at, forget_after: plusLeeway(later(latest, floor)!),
    }]);
    for (const holder of holders) await holder.revokeAllOf(trx, batch, actor, principalId, reason ?? 'all credentials of the principal revoked');
    await audit.record(trx, batch, {
      type: 'credential.principal.revoked', action: 'credential.revoke', actor,
      target: { type: 'principal', id: principalId, name: null }, outcome: 'success',
      details: { principal_id: principalId, not_before: at, ...cascadeDetails(live.map((r) => r.jti)), reason },
    });
    afterCommit(batch, entries);
    return { principal_id: principalId, revoked_at: at, not_before: at, cascade: live.map((r) => r.jti) };
  }

  const service = {
    // RevocationState -------------------------------------------------------------------------------------
    isRevoked(ref: TokenRef): boolean {
      return memory.isRevoked(ref);
    },
    version(): number {
      return cursor;
    },
    refresh,

    /** Called on every change of the in-memory state with the current list version; returns an unsubscribe. */
    subscribe(listener: (version: number) => void): () => void {
      listeners.add(listener);
      return () => { listeners.delete(listener); };
    },

    /** Reads every entry that may still matter (start-up). */
    async load(): Promise<void> {
      const top = await revocations.maxVersion(db.kysely);
      const rows = await revocations.activeRevocations(db.kysely, nowIso());
      memory.clear();
      memory.apply(rows, clock.now().getTime());
      cursor = Math.max(top, ...rows.map((r) => Number(r.version)));
      notify();
    },

    /** Polls the list every pollIntervalMs (other nodes' revocations) and prunes it hourly. */
    start(): void {
      if (timer) return;
      timer = setInterval(() => {
        void refreshQuietly();
        const now = clock.now().getTime();
        if (now - lastPrune >= PRUNE_EVERY_MS) {
          lastPrune = now;
          service.prune().catch((error: unknown) => deps.onError?.(error));
        }
      }, pollIntervalMs);
      timer.unref();
    },
    stop(): void {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
    /** Waits for revocations made inside callers' transactions to be applied (tests, shutdown). */
    async idle(): Promise<void> {
      while (pending.size > 0) await Promise.allSettled([...pending]);
      await refreshing;
    },
    /** Readiness: the last read of the list worked and, while polling, one succeeded within five poll intervals. */
    health(): { ok: boolean; detail?: string } {
      if (lastRefreshError !== undefined) return { ok: false, detail: 'revocation list could not be read' };
      const stale = performance.now() - lastRefreshedAt;
      if (timer && stale > STALE_AFTER_POLLS * pollIntervalMs) return { ok: false, detail: `revocation list not read for ${Math.round(stale / 1000)} s` };
      return { ok: true };
    },

    /** Deletes entries past forget_after, in the store and in memory; returns how many rows went. */
    async prune(): Promise<number> {
      const now = nowIso();
      const n = await db.write((trx) => revocations.pruneRevocations(trx, now));
      memory.forgetUpTo(Date.parse(now));
      return n;
    },

    // Revoking --------------------------------------------------------------------------------------------
    revokeTokenIn,
    revokeFamilyIn,
    onCredentialRevoked,
    revokePrincipalIn,
    /** PrincipalCredentialRevoker (identity calls it on suspend and decommission, inside its transaction). */
    async revokeAllOf(trx: Trx, batch: WriteBatch, actor: Actor, principalId: string, reason: string): Promise<void> {
      await revokePrincipalIn(trx, batch, actor, principalId, reason);
    },

    /** A token and every token derived from it; 404 for a jti never issued. */
    async revokeToken(actor: Actor, jti: string, reason: string | null): Promise<TokenRevocation> {
      const rows: revocations.RevocationRow[] = [];
      const result = await db.write(async (trx, batch) => {
        rows.length = 0;
        const r = await revokeTokenIn(trx, withCollector(batch, rows), actor, jti, reason);
        if (!r) throw errors.notFound('access token', jti);
        return r;
      });
      await committed(rows);
      return result;
    },

    async revokeFamily(actor: Actor, familyId: string, reason: string | null): Promise<FamilyRevocation> {
      const rows: revocations.RevocationRow[] = [];
      const result = await db.write(async (trx, batch) => {
        rows.length = 0;
        const r = await revokeFamilyIn(trx, withCollector(batch, rows), actor, familyId, reason);
        if (!r) throw errors.notFound('token family', familyId);
        return r;
      });
      await committed(rows);
      return result;
    },

    /** A credential by id: its holder revokes it (and cascades through onCredentialRevoked); else the cascade alone. */
    async revokeCredential(actor: Actor, credentialId: string, reason: string | null): Promise<CredentialRevocation> {
      const rows: revocations.RevocationRow[] = [];
      const result = await db.write(async (trx, batch) => {
        rows.length = 0;
        const b = withCollector(batch, rows);
        let outcome: 'revoked' | 'already_revoked' | undefined;
        for (const holder of holders) {
          outcome = await holder.revokeOne?.(trx, b, actor, credentialId, reason ?? 'revoked');
          if (outcome) break;
        }
        // The holder cascades through onCredentialRevoked itself; calling it again is idempotent and makes sure.
        const r = await onCredentialRevoked(trx, b, actor, credentialId, reason);
        return outcome === 'revoked' ? { ...r, already_revoked: false } : r;
      });
      await committed(rows);
      return result;
    },

    async revokePrincipal(actor: Actor, principalId: string, reason: string | null): Promise<PrincipalRevocation> {
      const rows: revocations.RevocationRow[] = [];
      const result = await db.write(async (trx, batch) => {
        rows.length = 0;
        return revokePrincipalIn(trx, withCollector(batch, rows), actor, principalId, reason);
      });
      await committed(rows);
      return result;
    },

    /** The principal holding a credential, asked of the holders, else of the tokens obtained with it. */
    async principalOfCredential(credentialId: string, trx?: Trx): Promise<string | undefined> {
      for (const holder of holders) {
        const id = await holder.principalOf?.(credentialId, trx);
        if (id) return id;
      }
      return tokens.principalOfCredentialTokens(trx ?? db.kysely, credentialId);
    },
  };

  /** A view of the batch under which the in-transaction variants hand their entries to `rows` (our own transaction). */
  function withCollector(batch: WriteBatch, rows: revocations.RevocationRow[]): WriteBatch {
    const view = Object.create(batch) as WriteBatch & { [COLLECT]?: revocations.RevocationRow[] };
    view[COLLECT] = rows;
    return view;
  }

  return service satisfies RevocationState & PrincipalCredentialRevoker;
}
export type RevocationService = ReturnType<typeof createRevocationService>;
