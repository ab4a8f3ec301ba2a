import { credentialActor, OPERATOR_ROLES, type Actor, type AuthMethod, type OperatorRole, type Provenance } from '../../platform/actor.js';
import type { AccessTokenClaims } from '../contracts.js';
import type { PrincipalRecord } from './context.js';

// The Actor a verified access token stands for (the last step; pure).
//
// Rules (RFC 8693 §4.1: sub is the party delegated from, act the current actor with prior actors nested):
// - principal is the CURRENT actor: the outermost act.sub, or sub when the token is not delegated.
// - delegationChain, outermost first, is [sub, …prior actors from the innermost nested act outward]; the
//   current actor is not in it. sub=A, act={sub:C, act:{sub:B}} → principal C, chain [A, B]. Empty when not delegated.
// - scope split on spaces; purpose as issued; audience as a list; binding {dpop, jkt} or null; credential the
//   jti with iat and exp as ISO times; teamIds those of the current actor.
// - authMethod is amr[0] when it is one of AMR_AUTH_METHODS, else 'private_key_jwt'.
// - role (a signed-in person's operator role, RFC 9068 `roles`) only when the token is not delegated, has a single
//   audience (a token shared with a resource server would let that server replay the role), its subject is a human
//   and the role is one of OPERATOR_ROLES: a delegated token never carries its subject's role, and only
//   this issuer signs `roles` (the sign-in grants; the management verifier also requires its own audience).

export const AMR_AUTH_METHODS: readonly AuthMethod[] = ['private_key_jwt', 'client_secret', 'federated', 'api_key', 'operator_token'];

function roleOf(claims: AccessTokenClaims, delegated: boolean, kind: string): OperatorRole | null {
  const role = claims.roles?.[0];
  const singleAudience = !Array.isArray(claims.aud) || claims.aud.length === 1;
  if (delegated || kind !== 'human' || !singleAudience || role === undefined || !(OPERATOR_ROLES as readonly string[]).includes(role)) return null;
  return role as OperatorRole;
}

export function accessTokenActor(input: {
  claims: AccessTokenClaims;
  /** Outermost (the current actor) first. */
  actChain: string[];
  principals: Map<string, PrincipalRecord>;
  provenance: Provenance;
}): Actor {
  const { claims, actChain, principals } = input;
  const currentId = actChain[0] ?? claims.sub;
  const current = principals.get(currentId);
  if (!current) throw new Error(`principal ${currentId} was not looked up`);
  const prior = actChain.slice(1).reverse();
  const delegationChain = actChain.length === 0 ? [] : [claims.sub, ...prior].map((id) => ({ principalId: id, principalName: principals.get(id)?.principal.name ?? null }));
  const amr = claims.amr?.[0];
  return credentialActor({
    principal: current.principal,
    credential: {
      id: claims.jti, kind: 'access_token',
      issuedAt: new Date(claims.iat * 1000).toISOString(), expiresAt: new Date(claims.exp * 1000).toISOString(),
    },
    authMethod: amr !== undefined && (AMR_AUTH_METHODS as readonly string[]).includes(amr) ? amr as AuthMethod : 'private_key_jwt',
    teamIds: current.teamIds,
    scope: claims.scope.split(' ').filter((s) => s.length > 0),
    purpose: claims.purpose ?? null,
    audience: Array.isArray(claims.aud) ? [...claims.aud] : [claims.aud],
    binding: claims.cnf?.jkt ? { method: 'dpop', thumbprint: claims.cnf.jkt } : null,
    delegationChain,
    provenance: input.provenance,
    role: roleOf(claims, actChain.length > 0, current.principal.kind),
  });
}
