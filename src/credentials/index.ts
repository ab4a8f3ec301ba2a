// The credentials module's public surface: the OAuth token service and the one verifier every enforcement point
// calls, composed in module.ts. Other modules never import its files directly.
export { createCredentialsModule, type CredentialsModule, type CredentialsModuleDeps } from './module.js';
export { createCredentialVerifier, type CredentialIssuer } from './verifier.js';
export type { AccessTokenClaims, CredentialDirectory, CredentialPrincipal, AudienceResource, PrincipalCredentialRevoker } from './contracts.js';
