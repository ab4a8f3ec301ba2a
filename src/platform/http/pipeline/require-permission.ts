import type { Actor } from '../../actor.js';
import { AppError, errors } from '../errors.js';
import type { RouteRequirement } from './index.js';

// Step: the route's declared permission against the actor's role.
// - A route that declares no permission (and is not public) is refused: forgetting fails closed.
// - A refusal is a deny decision: it is recorded (authz.denied) before the 403 is sent. Recording is best
//   effort — the caller is refused whether or not the record could be written.
// - Ownership (an owner acting only on what it owns) is not decided here but in the services, which see
//   the object.

export type PermissionCheck = (actor: Actor, permission: string) => boolean;
export type DenialRecorder = (actor: Actor, permission: string, route: string) => Promise<void>;

export async function requirePermission(actor: Actor, requirement: RouteRequirement, authorize: PermissionCheck, recordDenial: DenialRecorder): Promise<void> {
  if (!requirement.permission) throw errors.forbidden('route has no declared permission');
  if (authorize(actor, requirement.permission)) return;
  await recordDenial(actor, requirement.permission, requirement.route);
  // A principal with an access token or API key has no role: what it lacks is scope (RFC 6750 §3.1).
  const kind = actor.credential?.kind;
  if (actor.role === null && (kind === 'access_token' || kind === 'api_key')) {
    throw new AppError('insufficient_scope', `this ${kind === 'api_key' ? 'API key' : 'access token'} does not allow '${requirement.permission}': the management API is for operators; a principal manages its own credentials with the custos:self scope (listing with custos:credentials.read)`);
  }
  throw errors.forbidden(`role '${actor.role}' lacks permission '${requirement.permission}'`);
}
