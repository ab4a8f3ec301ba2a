import { z } from 'zod';
import { nameSchema } from '../identity/index.js';
import { OPERATOR_ROLES } from '../platform/actor.js';
import { paginationQuery } from '../platform/http/pagination.js';

// Request and response shapes of /v1/identity-providers (the organisation's OIDC providers people sign in
// through) and of each provider's public JWKS; the OpenAPI document is generated from them. The shapes bound
// every field; the rules that need more than a shape (the issuer URL, which client authentication needs a
// secret, openid among the scopes, group mappings only with a groups claim, teams that exist) are the
// service's, answered with invalid_identity_provider (or team_not_found) and a detail saying which.

export const CLIENT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt'] as const;
export const SUBJECT_CLAIMS = ['sub', 'email'] as const;
export const NEW_PRINCIPAL_STATUSES = ['proposed', 'active'] as const;
export const DEFAULT_SCOPES = ['openid', 'email', 'profile'] as const;
export const MAX_GROUP_MAPPINGS = 200;

const reason = z.string().max(1000).optional().describe('Why: recorded in the audit log');
const displayName = z.string().min(1).max(200).describe('Shown on the sign-in page ("Sign in with …"); the name when absent');
const clientId = z.string().min(1).max(500).describe('Custos\'s client_id at the identity provider');
const clientAuth = z.enum(CLIENT_AUTH_METHODS)
  .describe('How Custos authenticates at the provider\'s token endpoint; private_key_jwt: Custos makes its own key pair and publishes the public key at jwks_uri');
const clientSecret = z.string().min(1).max(2000)
  .describe('The client secret the provider issued (client_secret_basic / client_secret_post only). Write-only: stored sealed, never returned');
// RFC 6749 §3.3 scope-token: printable ASCII without space, double quote or backslash.
const scopeToken = z.string().min(1).max(200).regex(/^[\x21\x23-\x5B\x5D-\x7E]+$/, 'a scope is printable ASCII without spaces, quotes or backslashes');
const scopes = z.array(scopeToken).min(1).max(50).describe(`Scopes requested at sign-in; must include openid. Default ${DEFAULT_SCOPES.join(' ')}`);
const subjectClaim = z.enum(SUBJECT_CLAIMS)
  .describe('Which claim names the person: sub (default; stable at the provider) or email (only when email_verified is not false)');
const claimName = z.string().min(1).max(200).regex(/^[A-Za-z0-9_.:/-]+$/, 'claim names: letters, digits and _ . : / - only');
const groupsClaim = claimName.describe('The claim carrying the person\'s groups (a list of strings), e.g. groups; read from the ID token, else userinfo');
const groupName = z.string().min(1).max(256);
const groupRoles = z.record(groupName, z.enum(OPERATOR_ROLES))
  .refine((m) => Object.keys(m).length <= MAX_GROUP_MAPPINGS, `at most ${MAX_GROUP_MAPPINGS} group mappings`)
  .describe('group → operator role (admin, security, auditor, owner); a person in several mapped groups gets the highest role. Groups match exactly (case-sensitive)');
const groupTeams = z.record(groupName, z.string().min(1).max(200))
  .refine((m) => Object.keys(m).length <= MAX_GROUP_MAPPINGS, `at most ${MAX_GROUP_MAPPINGS} group mappings`)
  .describe('group → team (id or name): the person is a member of the team while in the group');
const newPrincipalStatus = z.enum(NEW_PRINCIPAL_STATUSES)
  .describe('Status of the human principal created at a person\'s first sign-in: proposed (default: an admin activates) or active');

export const createIdentityProviderBody = z.strictObject({
  name: nameSchema,
  display_name: displayName.optional(),
  issuer: z.string().min(1).max(2000)
    .describe('The provider\'s OIDC issuer, exactly as its discovery document states it (https; plain http only to 127.0.0.1, [::1] or localhost, for development and tests)'),
  client_id: clientId,
  client_auth: clientAuth.optional().describe('Default client_secret_basic'),
  client_secret: clientSecret.optional(),
  scopes: scopes.optional(),
  subject_claim: subjectClaim.optional(),
  groups_claim: groupsClaim.nullable().optional(),
  group_roles: groupRoles.optional(),
  group_teams: groupTeams.optional(),
  new_principal_status: newPrincipalStatus.optional(),
  reason,
});
export type CreateIdentityProviderInput = z.infer<typeof createIdentityProviderBody>;

export const updateIdentityProviderBody = z.strictObject({
  display_name: displayName.nullable().optional(),
  client_id: clientId.optional(),
  client_auth: clientAuth.optional().describe('Switching to private_key_jwt makes a key pair (register the new jwks_uri key at the provider) and forgets the secret; switching to a secret method needs client_secret'),
  client_secret: clientSecret.optional().describe('Replaces the stored secret (secret methods only). Write-only'),
  rotate_key: z.literal(true).optional().describe('private_key_jwt: replace Custos\'s key pair for this provider (the old key stops working at once)'),
  scopes: scopes.optional(),
  subject_claim: subjectClaim.optional(),
  groups_claim: groupsClaim.nullable().optional().describe('null: no group mapping (needs group_roles and group_teams empty)'),
  group_roles: groupRoles.optional().describe('Replaces every group → role mapping'),
  group_teams: groupTeams.optional().describe('Replaces every group → team mapping'),
  new_principal_status: newPrincipalStatus.optional(),
  reason,
});
export type UpdateIdentityProviderInput = z.infer<typeof updateIdentityProviderBody>;

const publicJwkSchema = z.record(z.string(), z.unknown());

export const identityProviderSchema = z.object({
  id: z.string(),
  name: z.string(),
  display_name: z.string().nullable(),
  issuer: z.string(),
  client_id: z.string(),
  client_auth: z.enum(CLIENT_AUTH_METHODS),
  client_secret_set: z.boolean().describe('Whether a client secret is stored (it is never returned)'),
  public_jwk: publicJwkSchema.nullable().describe('private_key_jwt: the public half of Custos\'s key for this provider'),
  jwks_uri: z.string().nullable().describe('private_key_jwt: where the provider can fetch that key (register it, or the key, at the provider)'),
  scopes: z.array(z.string()),
  subject_claim: z.enum(SUBJECT_CLAIMS),
  groups_claim: z.string().nullable(),
  group_roles: z.record(z.string(), z.enum(OPERATOR_ROLES)),
  group_teams: z.record(z.string(), z.object({ id: z.string(), name: z.string().nullable().describe('null: the team was deleted since') })),
  new_principal_status: z.enum(NEW_PRINCIPAL_STATUSES),
  created_at: z.string(),
  created_by: z.string().nullable(),
  updated_at: z.string(),
});
export type IdentityProviderView = z.infer<typeof identityProviderSchema>;

export const listIdentityProvidersQuery = z.strictObject({ ...paginationQuery });
export type ListIdentityProvidersQuery = z.infer<typeof listIdentityProvidersQuery>;
export const identityProviderRefParams = z.strictObject({ ref: z.string().min(1).max(200).describe('id or name') });
export const deleteIdentityProviderQuery = z.strictObject({ reason });
export const providerJwksParams = z.strictObject({ name: z.string().min(1).max(63).describe('The identity provider\'s name') });
export const providerJwksSchema = z.object({ keys: z.array(publicJwkSchema) }).describe('RFC 7517 JWK Set: Custos\'s public key for private_key_jwt at this provider');

/** POST /v1/identity-providers/{ref}/check takes no parameters (an empty body or none). */
export const checkIdentityProviderBody = z.strictObject({}).nullish();

/** What POST /v1/identity-providers/{ref}/check found: the provider's discovery document read just now. */
export const identityProviderCheckSchema = z.object({
  ok: z.boolean(),
  issuer: z.string().nullable(),
  authorization_endpoint: z.string().nullable(),
  token_endpoint: z.string().nullable(),
  pkce_s256: z.boolean().nullable().describe('The provider advertises PKCE S256 (Custos always sends it)'),
  iss_parameter: z.boolean().nullable().describe('The provider advertises the RFC 9207 iss response parameter (checked when it does)'),
  error: z.string().nullable(),
});
export type IdentityProviderCheck = z.infer<typeof identityProviderCheckSchema>;
