import type { HttpApp } from '../../platform/http/app.js';
import { pageSchema } from '../../platform/http/pagination.js';
import { INVALID_POLICY, POLICY_TESTS_FAILED } from './errors.js';
import {
  activateBody, activatedSchema, createdSchema, createPolicyBody, impactBody, impactSchema, listQuery, rollbackBody, versionImpactBody,
  versionParams, versionSchema, versionSummarySchema,
} from './policies.schemas.js';
import type { PoliciesService } from './policies.service.js';

// /v1/policies: versioned user policy sets (policy as code). Reading and impact replays need policy.read; creating,
// activating and rolling back need policy.write. The service validates, runs the tests and audits.

const tags = ['policies'];

export function registerPolicyRoutes(app: HttpApp, policies: PoliciesService): void {
  app.post('/v1/policies', {
    config: { permission: 'policy.write', errors: [INVALID_POLICY] },
    schema: { tags, summary: 'Create a candidate policy version from Cedar text and YAML test cases (validated; activation is its own call)', body: createPolicyBody, response: { 201: createdSchema } },
  }, async (req, reply) => reply.code(201).send(await policies.create(req.actor, req.body)));

  app.get('/v1/policies', {
    config: { permission: 'policy.read' },
    schema: { tags, summary: 'Policy version history, newest first', querystring: listQuery, response: { 200: pageSchema(versionSummarySchema) } },
  }, async (req) => policies.list(req.query));

  app.get('/v1/policies/active', {
    config: { permission: 'policy.read', errors: ['not_found'] },
    schema: { tags, summary: 'The active policy version', response: { 200: versionSchema } },
  }, async () => policies.active());

  app.get('/v1/policies/:version', {
    config: { permission: 'policy.read', errors: ['not_found'] },
    schema: { tags, summary: 'One policy version with its Cedar text and test cases', params: versionParams, response: { 200: versionSchema } },
  }, async (req) => policies.get(req.params.version));

  app.post('/v1/policies/:version/activate', {
    config: { permission: 'policy.write', errors: ['not_found', 'invalid_transition', INVALID_POLICY, POLICY_TESTS_FAILED] },
    schema: { tags, summary: 'Activate a version: validated again and its tests run; only if both pass does it replace the active one', params: versionParams, body: activateBody, response: { 200: activatedSchema } },
  }, async (req) => policies.activate(req.actor, req.params.version, req.body.reason));

  app.post('/v1/policies/rollback', {
    config: { permission: 'policy.write', errors: ['not_found', 'invalid_transition', INVALID_POLICY] },
    schema: { tags, summary: 'Return to the previously active version (or a named one that was active before)', body: rollbackBody, response: { 200: activatedSchema } },
  }, async (req) => policies.rollback(req.actor, req.body));

  app.post('/v1/policies/impact', {
    config: { permission: 'policy.read', errors: [INVALID_POLICY] },
    schema: { tags, summary: 'Replay recent decisions against Cedar text and list every decision it would flip (changes nothing)', body: impactBody, response: { 200: impactSchema } },
  }, async (req) => policies.impact(req.body.policies, req.body.app_schema, req.body));

  app.post('/v1/policies/:version/impact', {
    config: { permission: 'policy.read', errors: ['not_found', INVALID_POLICY] },
    schema: { tags, summary: 'Replay recent decisions against a stored version and list every decision it would flip (changes nothing)', params: versionParams, body: versionImpactBody, response: { 200: impactSchema } },
  }, async (req) => policies.impactOfVersion(req.params.version, req.body));
}
