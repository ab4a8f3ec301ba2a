import type { Actor, OperatorRole } from '../platform/actor.js';

// What each operator role may do. One table, checked for every route; the CLI only talks to the API,
// so the same check governs both. Ownership scoping for the owner role is applied in the services.

export const PERMISSIONS = [
  'self.read',
  'principal.read', 'principal.create', 'principal.update', 'principal.lifecycle',
  'team.read', 'team.write',
  'resource.read', 'resource.write',
  'token.read', 'token.create', 'token.revoke',
  'audit.read', 'audit.verify', 'audit.admin',
  'finding.read', 'finding.write',
  'key.read', 'key.rotate',
  'credential.read', 'credential.create', 'credential.revoke',
  'federation.read', 'federation.write',
  'idp.read', 'idp.write',
  'client.read', 'client.write',
  'session.read', 'session.revoke',
  'policy.read', 'policy.write', 'grant.read', 'grant.write', 'device.read', 'device.write', 'authz.evaluate',
  'grant.revoke',
  'request.read', 'request.create', 'request.approve', 'approval.settings',
  'breakglass.use', 'breakglass.review',
  'review.read', 'review.write', 'review.decide',
  'webhook.read', 'webhook.write',
  'upstream.read', 'upstream.write', 'limit.read', 'limit.write',
  'mcp_server.read', 'mcp_server.write',
  'metrics.read',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

const READ: Permission[] = [
  'self.read', 'principal.read', 'team.read', 'resource.read', 'token.read', 'audit.read', 'audit.verify', 'finding.read',
  'key.read', 'credential.read', 'federation.read', 'idp.read', 'client.read', 'session.read',
  'policy.read', 'grant.read', 'device.read', 'request.read', 'review.read', 'upstream.read', 'limit.read',
  'mcp_server.read', 'metrics.read',
];

export const ROLE_PERMISSIONS: Record<OperatorRole, ReadonlySet<Permission>> = {
  admin: new Set(PERMISSIONS),
  security: new Set<Permission>([
    ...READ, 'principal.create', 'principal.update', 'principal.lifecycle', 'team.write', 'resource.write', 'token.revoke', 'finding.write',
    'credential.create', 'credential.revoke', 'session.revoke', 'grant.write', 'device.write', 'authz.evaluate',
    'grant.revoke', 'request.create', 'request.approve', 'breakglass.use', 'breakglass.review', 'review.write', 'review.decide', 'webhook.read',
    'limit.write',
  ]),
  auditor: new Set<Permission>(READ),
  // Owners manage the credentials of the principals they own (the services check ownership).
  owner: new Set<Permission>([
    'self.read', 'principal.read', 'principal.create', 'principal.update', 'principal.lifecycle', 'team.read', 'resource.read', 'resource.write',
    'credential.read', 'credential.create', 'credential.revoke',
    // Approvals: the services keep owners to what they own or are asked about (their requests, their principals'
    // reviews, grants on their resources); approving follows the request's rule, not the role.
    'grant.revoke', 'request.read', 'request.create', 'request.approve', 'breakglass.use', 'review.read', 'review.decide',
  ]),
};

/**
 * What a principal holding an access token or an API key (an agent, a service account) may do on the management
 * API: look at itself (`GET /v1/whoami`) with any credential addressed to it, and more only as its scopes say —
 * `custos:self` lists its own credentials and revokes its own tokens and material, `custos:credentials.read`
 * only lists them. The services keep such callers to their own principal. Nothing else of the management plane
 * is reachable with them, whatever the scope: management is for operators.
 */
export const SELF_SERVICE_SCOPES: ReadonlyMap<string, readonly Permission[]> = new Map<string, readonly Permission[]>([
  ['custos:self', ['self.read', 'credential.read', 'credential.revoke']],
  ['custos:credentials.read', ['self.read', 'credential.read']],
  // A service account that uses Custos as its decision point (AuthZEN); the authz module keeps it to the subjects
  // it may ask about.
  ['authz:evaluate', ['self.read', 'authz.evaluate']],
  // An MDM/EDR integration's service account reports device records (the devices part keeps it to reports).
  ['devices:write', ['self.read', 'device.write']],
  // An agent asking for access for itself (its owner becomes the accountable requester); it sees its own requests.
  ['custos:access-request', ['self.read', 'request.create', 'request.read']],
]);

export function authorize(actor: Actor, permission: string): boolean {
  if (actor.role) return ROLE_PERMISSIONS[actor.role].has(permission as Permission);
  const kind = actor.credential?.kind;
  if (!actor.principal || (kind !== 'access_token' && kind !== 'api_key')) return false;
  if (permission === 'self.read') return true;
  return (actor.scope ?? []).some((s) => SELF_SERVICE_SCOPES.get(s)?.includes(permission as Permission) ?? false);
}

/** Only admins mint operator tokens, so no role can hand out more than it holds. */
export function canGrantRole(granter: OperatorRole | null, _role: OperatorRole): boolean {
  return granter === 'admin';
}
