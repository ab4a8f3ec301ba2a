import type { FastifyRequest } from 'fastify';
import type { Actor } from '../../actor.js';
import { readCredential } from './read-credential.js';
import { requestProvenance } from './provenance.js';
import { requirePermission, type PermissionCheck, type DenialRecorder } from './require-permission.js';
import type { CredentialVerifier } from './verify-credential.js';

// The management API's request pipeline: the ordered steps every non-public /v1 call passes before its
// handler runs (and before its body is parsed, so an unauthenticated caller learns nothing about the input).
// Each step is one small file whose header states its rules. The token endpoint and the gateway build their
// own tables from the same steps (one verifier, one permission step, one denial record).
//
//   requestProvenance → readCredential → verifyCredential → requirePermission (denial recorded first)

export interface PipelineDeps {
  /** The one verifier: dispatches by credential kind (credentials module). */
  verify: CredentialVerifier;
  /** The role → permission table (operators module). */
  authorize: PermissionCheck;
  /** Records a refused call before the 403 is sent (operators module, through the audit writer). */
  recordDenial: DenialRecorder;
  /** The server's public base URL (a DPoP proof names the URL the client addressed). */
  publicUrl: () => string;
}

export interface RouteRequirement {
  /** Declared permission; a route with none and not public is refused (forgetting fails closed). */
  permission: string | undefined;
  /** "METHOD /path" as the router knows it, for the denial record. */
  route: string;
}

export type ManagementPipeline = (req: FastifyRequest, requirement: RouteRequirement) => Promise<Actor>;

export function createManagementPipeline(deps: PipelineDeps): ManagementPipeline {
  return async (req, requirement) => {
    const provenance = requestProvenance(req);
    const presented = readCredential(req, deps.publicUrl());
    const actor = await deps.verify(presented, provenance);
    await requirePermission(actor, requirement, deps.authorize, deps.recordDenial);
    return actor;
  };
}

export type { CredentialVerifier, PresentedCredential } from './verify-credential.js';
export type { PermissionCheck, DenialRecorder } from './require-permission.js';
