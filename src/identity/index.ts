// The identity module's public surface: what the composition root, the CLI and other modules may use.
// Other modules never import identity's files directly.
export { createPrincipalService, type PrincipalService } from './principals.service.js';
export { registerPrincipalRoutes } from './principals.routes.js';
export { createTeamService, type TeamService } from './teams.service.js';
export { registerTeamRoutes } from './teams.routes.js';
export { createResourceService, MAX_DEPTH, type ResourceService } from './resources.service.js';
export { registerResourceRoutes } from './resources.routes.js';
export { createCredentialDirectory, createIdentityDirectory, type IdentityDirectory, type PrincipalWithTeams } from './directory.js';
export type { PrincipalCredentialRevoker, RoleLookup } from './ports.js';
export { admitsDelegate, KIND_PREFIX } from './delegation.js';
export { audienceOf, CUSTOS_RESOURCE_URN } from './audience.js';
export { ROLE_RANK } from './ownership.js';
export { nameSchema } from './fields.schemas.js';
export { toCsv, CSV_COLUMNS } from './principals.csv.js';
export type { PrincipalView } from './principals.schemas.js';
export type { ResourceView } from './resources.schemas.js';
export type { TeamView } from './teams.schemas.js';
export {
  AUTONOMY_LEVELS, CLASSIFICATIONS, ENVIRONMENTS, PRINCIPAL_KINDS, PRINCIPAL_STATUSES, RESOURCE_KINDS, RISK_TIERS,
  type PrincipalKind, type RiskTier,
} from './taxonomy.js';
export { createApprovalDirectory } from './approval-directory.js';
export { needsRegistration } from './taxonomy.js';
export { createPeopleDirectory, createTeamResolver, nameFromHint } from './people.js';
