import type { Harness } from '../../support/harness.js';

// Types and outcome tables shared by every module's route cases.

export const ROLES = ['admin', 'security', 'auditor', 'owner'] as const;
export type Role = (typeof ROLES)[number];

/** ok: 2xx. allowed: passes authentication and the role check (not 401/403, not 5xx). forbidden: 403. */
export type Outcome = 'ok' | 'allowed' | 'forbidden';

export interface Req {
  method: string;
  url: string;
  body?: unknown;
}

export interface World {
  h: Harness;
  tokens: Record<Role, string>;
  /** Names of the operators behind the tokens. */
  names: Record<Role, string>;
  ownerTeam: string;
  uniq(prefix: string): string;
  /** An admin call that must succeed (fixtures). */
  admin(method: string, url: string, body?: unknown): Promise<any>;
}

export interface RouteCase {
  expect: Record<Role, Outcome>;
  /** Reads and computations that change nothing although they are POSTs (e.g. verify). */
  readOnly?: boolean;
  /** Server-sent events: checked over a real socket, then disconnected. */
  stream?: boolean;
  /** A route that declares its own body limit (the default is 1 MiB). */
  bodyLimit?: number;
  build(w: World, role: Role): Promise<Req>;
}

export const all = (o: Outcome): Record<Role, Outcome> => ({ admin: o, security: o, auditor: o, owner: o });
export const managers: Record<Role, Outcome> = { admin: 'ok', security: 'ok', auditor: 'forbidden', owner: 'ok' };
export const staff: Record<Role, Outcome> = { admin: 'ok', security: 'ok', auditor: 'forbidden', owner: 'forbidden' };
export const readers: Record<Role, Outcome> = { admin: 'ok', security: 'ok', auditor: 'ok', owner: 'forbidden' };
export const adminOnly: Record<Role, Outcome> = { admin: 'ok', security: 'forbidden', auditor: 'forbidden', owner: 'forbidden' };
export const auditReaders: Record<Role, Outcome> = { admin: 'allowed', security: 'allowed', auditor: 'allowed', owner: 'forbidden' };
export const adminAllowed: Record<Role, Outcome> = { admin: 'allowed', security: 'forbidden', auditor: 'forbidden', owner: 'forbidden' };
export const staffAllowed: Record<Role, Outcome> = { admin: 'allowed', security: 'allowed', auditor: 'forbidden', owner: 'forbidden' };

/** A fresh active agent owned by the owner-role operator. */
export async function ownedAgent(w: World): Promise<string> {
  const name = w.uniq('agent');
  await w.admin('POST', '/v1/principals', { name, kind: 'agent', owner: w.names.owner, status: 'active' });
  return name;
}

export async function ownedResource(w: World): Promise<string> {
  const name = w.uniq('res');
  await w.admin('POST', '/v1/resources', { name, kind: 'model', owner: w.names.owner });
  return name;
}

