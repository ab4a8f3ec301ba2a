// The authorization module's public surface.
export { createAuthzModule, type AuthzModule, type AuthzModuleDeps } from './module.js';
export { factsFromActor } from './facts.js';
export { DEFAULT_AUTHZ_SETTINGS, type AuthzSettings } from './settings.js';
export {
  ACTIONS, ASSET_ACTIONS, MANAGEMENT_ACTIONS, NO_FACTS,
  type Decision, type DecisionReason, type DecisionRequest, type Pdp, type PreparedDecision, type RequestFacts, type ResourceTarget,
} from './contracts.js';
export type { GrantView, NewGrant } from './grants/index.js';
export { purposeProblem } from './grants/grant-rules.js';
