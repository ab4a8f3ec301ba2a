// The operators module: the management plane's own credentials (operator tokens) and the role → permission
// table. The OAuth token service for agents and workloads lives in credentials/, not here.
export { createOperatorTokenService, type OperatorTokenService } from './operator-tokens.service.js';
export { registerOperatorTokenRoutes } from './operator-tokens.routes.js';
export {
  createAdminRecovery, type AdminRecovery, type AdminRecoveryInput, type AdminRecoveryResult, type HumanRegistrar,
} from './admin-recovery.service.js';
export { createDenialRecorder } from './denials.js';
export { authorize, canGrantRole, PERMISSIONS, ROLE_PERMISSIONS, type Permission } from './roles.js';
export { DEFAULT_TTL_SECONDS, MAX_TTL_SECONDS, MIN_TTL_SECONDS, type TokenView } from './operator-tokens.schemas.js';
export { createRoleLookup, highestRole, type RoleSource } from './role-lookup.js';
