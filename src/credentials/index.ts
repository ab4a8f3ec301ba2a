// The credentials module's public surface: the OAuth token service and the one verifier every enforcement point
// calls, composed in module.ts. Other modules never import its files directly.
export { createCredentialsModule, type CredentialsModule, type CredentialsModuleDeps } from './module.js';
export { createCredentialVerifier, type CredentialIssuer } from './verifier.js';
export type { AccessTokenClaims, CredentialDirectory, CredentialPrincipal, AudienceResource, PrincipalCredentialRevoker } from './contracts.js';
// For the sign-in module's grants (authorization_code, refresh_token, device_code), which run in the same token
// endpoint table and decide with the same rules.
export { OAuthError } from './oauth-errors.js';
export type { GrantHandler, GrantRequest } from './token-endpoint/grants/context.js';
export type { IssueRequest } from './token-endpoint/issue.js';
export { resolveAudiences } from './token-endpoint/audience.js';
export { assertMayReceive } from './token-endpoint/grants/common.js';
export { chooseScope, choosePurpose, grantedLifetime } from './narrowing.js';
export type { CredentialHolder } from './revocation.service.js';
export { readParams, required, type OAuthParams } from './token-endpoint/params.js';
export type { LeakRevokerFn } from './leaks.js';
export { createRemoteJwksCache, remoteUrlProblem } from './remote-jwks.js';
