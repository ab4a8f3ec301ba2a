import type { Actor } from '../../actor.js';
import { errors } from '../errors.js';
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
  throw errors.forbidden(`role '${actor.role}' lacks permission '${requirement.permission}'`);
}
