// The identity module's public surface: what the composition root and other modules may use.
// Other modules never import identity's files directly.
export { createPrincipalService, type PrincipalService } from './principals.service.js';
export { registerPrincipalRoutes } from './principals.routes.js';
export { createTeamService, registerTeamRoutes, type TeamService } from './teams.js';
export { createResourceService, registerResourceRoutes, type ResourceService } from './resources.js';
export { createIdentityDirectory, type IdentityDirectory, type PrincipalWithTeams } from './directory.js';
export { PRINCIPAL_KINDS, RISK_TIERS, type PrincipalKind, type RiskTier } from './taxonomy.js';
