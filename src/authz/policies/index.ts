// The policy lifecycle part of the authorization module: versioned user policy sets with test cases, activation,
// rollback and impact replays (/v1/policies). The offline pieces (validation, diff, offline tests) are used by
// `custos policy` without a server.
import type { AuthzPart, AuthzPartContext } from '../parts.js';
import { registerPolicyRoutes } from './policies.routes.js';
import { createPoliciesService } from './policies.service.js';

export function createPoliciesPart(ctx: AuthzPartContext): AuthzPart {
  const service = createPoliciesService(ctx);
  return { registerRoutes: (app) => registerPolicyRoutes(app, service) };
}

export { createPoliciesService, type PoliciesService } from './policies.service.js';

// The offline surface (`custos policy validate|test|diff|apply`): no store, no server.
export { diffPolicies, type PolicyDiff } from './diff.js';
export { parseEntitiesFile, runCasesOffline } from './offline.js';
export {
  checkPolicyFiles, combinedIdProblems, combinePolicyFiles, combineTestFiles, fileProblemLine, readTestFiles, screenPolicyFiles, unsafePath,
  type FileProblem, type SourceFile,
} from './sources.js';
export { refusalWarnings, type CaseResult, type TestCase } from './test-cases.js';
export { lineDiff, policiesById } from './diff.js';
export { knownActions } from './validation.js';
export type { Activated, Impact, TestReport, VersionSummary, VersionView } from './policies.schemas.js';
