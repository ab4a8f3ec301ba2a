// The credentials module: the one verifier every enforcement point calls (and, next, the OAuth token service).
export { createCredentialVerifier, type CredentialIssuer } from './verifier.js';
