import type { Actor } from '../platform/actor.js';
import type { Clock } from '../platform/clock.js';
import { CREDENTIAL_ID_PATTERN } from '../platform/credential-format.js';
import { AppError } from '../platform/http/errors.js';
import { isUuid, type IdGenerator } from '../platform/ids.js';
import type { Database, Trx, WriteBatch } from '../platform/store/db.js';
import type { AuditWriter } from '../audit/index.js';
import type { ClientMaterial, CredentialDirectory, CredentialPrincipal, RegisteredClientKey } from './contracts.js';

// Client authentication material for the token endpoint: the public keys an agent registered for
// private_key_jwt (client-keys.service.ts) and its client secrets (client-secrets.service.ts), behind the one
// ClientMaterial port the token endpoint reads. Also the rules both services share, so a key and a secret are
// governed alike:
// - who may see, issue and revoke a principal's material: admin and security operators any principal's;
//   owner-role operators only the principals they own (directly, or through a team they belong to); auditors
//   read everything and change nothing; a caller with no operator role (an agent with an access token) may read
//   and revoke its own material, never add to it;
// - who may hold material: active, non-human principals only (people sign in instead);
// - what a principal the caller may not see looks like: as if it did not exist (a 403 must not reveal what a
//   404 would hide).

/** Called inside the revoking transaction: the revocation service kills the tokens obtained with the credential. */
export type CredentialRevokedHook = (trx: Trx, batch: WriteBatch, actor: Actor, credentialId: string, reason: string) => Promise<void>;

/** What both services are built from. */
export interface ClientCredentialDeps {
  db: Database;
  audit: AuditWriter;
  clock: Clock;
  newId: IdGenerator;
  directory: CredentialDirectory;
  onCredentialRevoked: CredentialRevokedHook;
}

/** One credential in a principal's inventory (the revocation service's /v1/credentials). */
export interface HeldCredential {
  id: string;
  kind: 'client_key' | 'client_secret';
  principal_id: string;
  created_at: string;
  /** Null for a client key registered without an expiry. */
  expires_at: string | null;
  last_used_at: string | null;
  /** When the secret was revoked or the key removed; null while it is held. */
  revoked_at: string | null;
  revoked_reason: string | null;
}

/** A fleet-wide inventory (no principal named) lists at most this many credentials of each kind. */
export const FLEET_INVENTORY_LIMIT = 10_000;

/** Last-used times are kept to this resolution: a busy client does not write on every token request. */
export const LAST_USED_RESOLUTION_MS = 60_000;

function owns(actor: Actor, p: CredentialPrincipal): boolean {
  if (!actor.principal) return false;
  if (p.ownerId !== null && p.ownerId === actor.principal.id) return true;
  const team = p.ownerTeamId ?? null;
  return team !== null && actor.teamIds.includes(team);
}

function isSelf(actor: Actor, p: CredentialPrincipal): boolean {
  return actor.role === null && actor.principal !== null && actor.principal.id === p.id;
}

/** Whether the actor may list the principal's keys and secrets. */
export function mayReadMaterialOf(actor: Actor, p: CredentialPrincipal): boolean {
  if (actor.role === 'admin' || actor.role === 'security' || actor.role === 'auditor') return true;
  if (actor.role === 'owner') return owns(actor, p);
  return isSelf(actor, p);
}

/** Whether the actor may add keys or secrets for the principal (and rotate its secrets). */
export function mayIssueMaterialTo(actor: Actor, p: CredentialPrincipal): boolean {
  if (actor.role === 'admin' || actor.role === 'security') return true;
  return actor.role === 'owner' && owns(actor, p);
}

/** Whether the actor may remove keys or revoke secrets of the principal: its managers, or the principal itself. */
export function mayRevokeMaterialOf(actor: Actor, p: CredentialPrincipal): boolean {
  return mayIssueMaterialTo(actor, p) || isSelf(actor, p);
}

/** Refuses new material for a principal that cannot hold it: a human (people sign in) or one that is not active. */
export function assertMayHoldMaterial(p: CredentialPrincipal, what: string): void {
  if (p.kind === 'human') {
    throw new AppError('principal_cannot_hold_credentials', `'${p.name}' is a human: people sign in, they do not hold ${what}`);
  }
  if (p.status !== 'active') {
    throw new AppError('principal_cannot_hold_credentials', `principal '${p.name}' is ${p.status}; only active principals get ${what}`);
  }
}

/** The error for a principal that does not exist or that the caller may not see (the same answer for both). */
export function principalNotFound(ref: string): AppError {
  return new AppError('principal_not_found', `principal '${ref}' does not exist`);
}

/**
 * Which principal a list is about: the one named (undefined when the caller may not see it, so the list is
 * empty as if it did not exist), or every principal (null) for roles that read everything. Owner-role operators
 * must name one; a caller without an operator role lists its own.
 */
export async function listSubject(directory: CredentialDirectory, actor: Actor, ref: string | undefined): Promise<string | null | undefined> {
  if (ref === undefined) {
    if (actor.role === 'admin' || actor.role === 'security' || actor.role === 'auditor') return null;
    if (actor.role === 'owner') {
      throw new AppError('validation_failed', 'owner-role operators list the material of one principal they own: pass principal', {
        errors: [{ location: 'querystring', path: '/principal', message: 'required for the owner role' }],
      });
    }
    return actor.principal?.id ?? undefined;
  }
  const p = await directory.principal(ref);
  return p && mayReadMaterialOf(actor, p) ? p.id : undefined;
}

/** Bounded memory of when each credential was last marked used on this node. */
export function usageThrottle(clock: Clock, max = 10_000) {
  const marked = new Map<string, number>();
  /** The cutoff to write with, or undefined when this credential was marked less than a minute ago. */
  function due(id: string): { now: Date; cutoff: Date } | undefined {
    const now = clock.now();
    const prev = marked.get(id);
    if (prev !== undefined && now.getTime() - prev < LAST_USED_RESOLUTION_MS) return undefined;
    if (marked.size >= max) marked.clear();
    marked.set(id, now.getTime());
    return { now, cutoff: new Date(now.getTime() - LAST_USED_RESOLUTION_MS) };
  }
  return {
    due,
    forget(id: string): void {
      marked.delete(id);
    },
    /** Writes last-used for `id` when due (`write` gets the time and the cutoff); a failed write is retried next use. */
    async record(id: string, write: (now: string, cutoff: string) => Promise<void>): Promise<void> {
      const when = due(id);
      if (!when) return;
      try {
        await write(when.now.toISOString(), when.cutoff.toISOString());
      } catch (error) {
        marked.delete(id);
        throw error;
      }
    },
  };
}

/** The token endpoint's view of client material, over the two services. */
export function createClientMaterial(deps: {
  keys: { activeKeys(principalId: string): Promise<RegisteredClientKey[]>; markUsed(id: string): Promise<void> };
  secrets: { checkClientSecret(principalId: string, secret: string): Promise<string | undefined>; markUsed(id: string): Promise<void> };
}): ClientMaterial {
  return {
    clientKeys: (principalId) => deps.keys.activeKeys(principalId),
    checkClientSecret: (principalId, secret) => deps.secrets.checkClientSecret(principalId, secret),
    async markUsed(credentialId) {
      // Client keys have UUIDs; client secrets the 16-character id their secret carries.
      if (isUuid(credentialId)) await deps.keys.markUsed(credentialId);
      else if (CREDENTIAL_ID_PATTERN.test(credentialId)) await deps.secrets.markUsed(credentialId);
    },
  };
}
