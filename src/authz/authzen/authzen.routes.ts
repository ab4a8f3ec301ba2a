import type { FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { HttpApp } from '../../platform/http/app.js';
import { AppError } from '../../platform/http/errors.js';
import {
  actionSearchBody, actionSearchResponse, configurationSchema, decisionSchema, evaluationBody, evaluationsBody, evaluationsResponse,
  resourceSearchBody, resourceSearchResponse, subjectSearchBody, subjectSearchResponse,
} from './authzen.schemas.js';
import type { AuthzenService } from './authzen.service.js';

// The AuthZEN HTTPS binding (§10), in its own plugin scope so that its transport rules stay here:
// - a body that is not `application/json` is 400, not the API's usual 415 (§10.1; the certification scenario);
// - `X-Request-ID` is echoed verbatim, whatever its characters (§10.1.3: "the same identifier"), on every answer
//   including errors; the audit log keeps it when it is short printable text (else the server's own request id);
// - errors are the API's RFC 9457 problem+json: the status is what §10.1.2 prescribes, the message is `detail`.
// Every authenticated caller passes the route (`self.read`); the service decides who may ask about whom.

const tags = ['authzen'];
/** See the service's header: the pipeline's one permission cannot say "operators, evaluators, or about oneself". */
const permission = 'self.read';
const PRINTABLE_ID = /^[\x20-\x7e]{1,256}$/;

function requestIdOf(req: FastifyRequest): string | null {
  const given = req.headers['x-request-id'];
  if (typeof given === 'string' && PRINTABLE_ID.test(given)) return given;
  return req.id;
}

export function registerAuthzenRoutes(app: HttpApp, service: AuthzenService): void {
  app.get('/.well-known/authzen-configuration', {
    config: { public: true },
    schema: { tags, summary: 'AuthZEN policy decision point metadata (AuthZEN 1.0 §9)', response: { 200: configurationSchema } },
  }, async (_req, reply) => reply.header('cache-control', 'public, max-age=300').send(service.configuration()));

  void app.register(async (plugin) => {
    const scope = plugin.withTypeProvider<ZodTypeProvider>();
    scope.addContentTypeParser('*', (_req, _payload, done) => done(new AppError('validation_failed', 'send the request as application/json (AuthZEN §10.1)'), undefined));
    scope.addHook('onSend', async (req, reply) => {
      const given = req.headers['x-request-id'];
      if (typeof given === 'string') reply.header('x-request-id', given);
    });

    scope.post('/access/v1/evaluation', {
      config: { permission },
      schema: { tags, summary: 'Access Evaluation (AuthZEN 1.0 §6): one decision, recorded before the answer', body: evaluationBody, response: { 200: decisionSchema } },
    }, async (req) => service.evaluate(req.actor, req.body, requestIdOf(req)));

    scope.post('/access/v1/evaluations', {
      config: { permission },
      schema: {
        tags, summary: 'Access Evaluations (AuthZEN 1.0 §7): up to 100 decisions, top-level members as defaults, evaluations_semantic',
        body: evaluationsBody, response: { 200: evaluationsResponse },
      },
    }, async (req) => service.evaluations(req.actor, req.body, requestIdOf(req)));

    scope.post('/access/v1/search/subject', {
      config: { permission, errors: ['invalid_cursor'] },
      schema: { tags, summary: 'Subject Search (AuthZEN 1.0 §8.4): the principals of a kind that may do the action', body: subjectSearchBody, response: { 200: subjectSearchResponse } },
    }, async (req) => service.searchSubjects(req.actor, req.body, requestIdOf(req)));

    scope.post('/access/v1/search/resource', {
      config: { permission, errors: ['invalid_cursor'] },
      schema: { tags, summary: 'Resource Search (AuthZEN 1.0 §8.5): the registry resources of a kind the subject may act on', body: resourceSearchBody, response: { 200: resourceSearchResponse } },
    }, async (req) => service.searchResources(req.actor, req.body, requestIdOf(req)));

    scope.post('/access/v1/search/action', {
      config: { permission, errors: ['invalid_cursor'] },
      schema: { tags, summary: 'Action Search (AuthZEN 1.0 §8.6): the actions the subject may take on the resource', body: actionSearchBody, response: { 200: actionSearchResponse } },
    }, async (req) => service.searchActions(req.actor, req.body, requestIdOf(req)));
  });
}
