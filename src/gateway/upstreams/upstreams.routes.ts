import { z } from 'zod';
import type { HttpApp } from '../../platform/http/app.js';
import { pageSchema } from '../../platform/http/pagination.js';
import {
  createUpstreamBody, deleteUpstreamQuery, listUpstreamsQuery, modelRouteParams, routeModelBody, unrouteQuery, updateUpstreamBody, upstreamRefParams,
  upstreamSchema,
} from './upstreams.schemas.js';
import type { UpstreamService } from './upstreams.service.js';

// /v1/upstreams: the model providers the gateway forwards to, their sealed keys (write-only) and the model aliases
// that route registry resources to provider model ids. Changing them needs upstream.write (admins), reading them
// upstream.read (admins, security, auditors). No response has a place for the key.

const tags = ['upstreams'];

export function registerUpstreamRoutes(app: HttpApp, upstreams: UpstreamService): void {
  app.post('/v1/upstreams', {
    config: { permission: 'upstream.write', errors: ['invalid_upstream', 'name_taken', 'resource_not_found', 'model_already_routed'] },
    schema: { tags, summary: 'Add an upstream (its key is write-only: stored sealed, never returned)', body: createUpstreamBody, response: { 201: upstreamSchema } },
  }, async (req, reply) => reply.code(201).send(await upstreams.create(req.actor, req.body)));

  app.get('/v1/upstreams', {
    config: { permission: 'upstream.read' },
    schema: { tags, summary: 'List upstreams with the models they serve (never their keys)', querystring: listUpstreamsQuery, response: { 200: pageSchema(upstreamSchema) } },
  }, async (req) => upstreams.list(req.query));

  app.get('/v1/upstreams/:ref', {
    config: { permission: 'upstream.read', errors: ['not_found'] },
    schema: { tags, summary: 'Show an upstream and the models it serves (never its key)', params: upstreamRefParams, response: { 200: upstreamSchema } },
  }, async (req) => upstreams.get(req.params.ref));

  app.patch('/v1/upstreams/:ref', {
    config: { permission: 'upstream.write', errors: ['not_found', 'invalid_upstream', 'version_mismatch'] },
    schema: { tags, summary: 'Change an upstream or rotate its key (the next call uses the new key; no client changes)', params: upstreamRefParams, body: updateUpstreamBody, response: { 200: upstreamSchema } },
  }, async (req) => upstreams.update(req.actor, req.params.ref, req.body));

  app.delete('/v1/upstreams/:ref', {
    config: { permission: 'upstream.write', errors: ['not_found', 'model_already_routed'] },
    schema: { tags, summary: 'Remove an upstream (one that serves models only with unroute_models=true)', params: upstreamRefParams, querystring: deleteUpstreamQuery, response: { 204: z.null() } },
  }, async (req, reply) => {
    await upstreams.remove(req.actor, req.params.ref, { unrouteModels: req.query.unroute_models === 'true', reason: req.query.reason });
    return reply.code(204).send(null);
  });

  app.put('/v1/upstreams/:ref/models/:resource', {
    config: { permission: 'upstream.write', errors: ['not_found', 'resource_not_found', 'invalid_upstream', 'model_already_routed'] },
    schema: { tags, summary: 'Route a model resource to this upstream as a provider model id (or change its provider model)', params: modelRouteParams, body: routeModelBody, response: { 200: upstreamSchema } },
  }, async (req) => upstreams.route(req.actor, req.params.ref, req.params.resource, req.body));

  app.delete('/v1/upstreams/:ref/models/:resource', {
    config: { permission: 'upstream.write', errors: ['not_found'] },
    schema: { tags, summary: 'Stop serving a model resource through this upstream', params: modelRouteParams, querystring: unrouteQuery, response: { 204: z.null() } },
  }, async (req, reply) => { await upstreams.unroute(req.actor, req.params.ref, req.params.resource, req.query.reason); return reply.code(204).send(null); });
}
