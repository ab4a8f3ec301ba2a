import type { HttpApp } from '../../platform/http/app.js';
import { pageSchema } from '../../platform/http/pagination.js';
import {
  cancelBody, createRequestBody, decideBody, denyBody, listRequestsQuery, requestIdParams, requestSchema, updateRequestBody,
} from './requests.schemas.js';
import type { RequestService } from './requests.service.js';

const tags = ['access requests'];
const DECIDE_ERRORS = ['not_found', 'request_not_pending', 'request_changed', 'self_approval', 'approver_not_human', 'approver_not_eligible', 'already_decided', 'forbidden'] as const;
const CONTENT_ERRORS = ['forbidden', 'principal_not_found', 'principal_not_active', 'resource_not_found', 'purpose_not_allowed', 'request_too_long'] as const;

export function registerRequestRoutes(app: HttpApp, requests: RequestService): void {
  app.post('/v1/access-requests', { config: { permission: 'request.create', errors: [...CONTENT_ERRORS] }, schema: { tags, summary: 'File an access request (or a registration request) for yourself, a principal you own, or — agents — for itself', body: createRequestBody, response: { 201: requestSchema } } },
    async (req, reply) => reply.code(201).send(await requests.create(req.actor, req.body)));
  app.get('/v1/access-requests', { config: { permission: 'request.read' }, schema: { tags, summary: 'List access requests', querystring: listRequestsQuery, response: { 200: pageSchema(requestSchema) } } },
    async (req) => requests.list(req.actor, req.query));
  app.get('/v1/access-requests/:id', { config: { permission: 'request.read', errors: ['not_found'] }, schema: { tags, summary: 'Show a request: its rule, approvals, what it still needs, and the request_hash approvers decide on', params: requestIdParams, response: { 200: requestSchema } } },
    async (req) => requests.get(req.actor, req.params.id));
  app.patch('/v1/access-requests/:id', { config: { permission: 'request.create', errors: ['not_found', 'request_not_pending', ...CONTENT_ERRORS] }, schema: { tags, summary: 'Edit a pending request (the requester): its hash changes and earlier approvals stop counting', params: requestIdParams, body: updateRequestBody, response: { 200: requestSchema } } },
    async (req) => requests.update(req.actor, req.params.id, req.body));
  app.post('/v1/access-requests/:id/approve', { config: { permission: 'request.approve', errors: [...DECIDE_ERRORS] }, schema: { tags, summary: 'Approve the revision you read (request_hash); separation of duties applies to everyone, admins included', params: requestIdParams, body: decideBody, response: { 200: requestSchema } } },
    async (req) => requests.approve(req.actor, req.params.id, req.body));
  app.post('/v1/access-requests/:id/deny', { config: { permission: 'request.approve', errors: [...DECIDE_ERRORS] }, schema: { tags, summary: 'Deny the revision you read (request_hash), with a reason', params: requestIdParams, body: denyBody, response: { 200: requestSchema } } },
    async (req) => requests.deny(req.actor, req.params.id, req.body));
  app.post('/v1/access-requests/:id/cancel', { config: { permission: 'request.create', errors: ['not_found', 'forbidden', 'request_not_pending'] }, schema: { tags, summary: 'Cancel a pending request (the requester; admins and security too)', params: requestIdParams, body: cancelBody, response: { 200: requestSchema } } },
    async (req) => requests.cancel(req.actor, req.params.id, req.body));
}
