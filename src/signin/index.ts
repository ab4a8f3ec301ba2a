// The sign-in module's public surface: people signing in through the organisation's identity providers, Custos as
// their authorization server (authorization code + PKCE, device grant, refresh tokens), composed in module.ts.
// Other modules never import its files directly.
export { createSigninModule, type SigninModule, type SigninModuleDeps } from './module.js';
export type { OperatorTokenSignin, PeopleDirectory } from './contracts.js';
