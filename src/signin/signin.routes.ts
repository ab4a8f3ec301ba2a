import cookie from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { OAuthError } from '../credentials/index.js';
import type { HttpApp } from '../platform/http/app.js';
import { pageSchema } from '../platform/http/pagination.js';
import { requestProvenance } from '../platform/http/pipeline/provenance.js';
import { readParams } from '../credentials/index.js';
import { AuthorizePageError } from './authorize/index.js';
import type { DeviceFlow } from './device.js';
import type { Outcome, SigninFlow } from './flow.js';
import { messagePage, STYLESHEET, type Page } from './pages/render.js';
import { randomSecret } from './secrets.js';
import { listSessionsQuery, revokeSessionBody, sessionParams, sessionSchema } from './sessions.schemas.js';
import type { SessionService } from './sessions.service.js';

// HTTP for people signing in: the authorization endpoint, the sign-in, consent and device pages, the IdP callback,
// the device authorization endpoint, and /v1/sessions. Handlers only translate HTTP to the flows (flow.ts,
// device.ts) and back. Rules:
// - Pages are HTML with the CSP from pages/render.ts, `Cache-Control: no-store`, never framed; their errors are
//   pages too (a person reads them), never problem+json; the OAuth endpoint's errors are RFC 6749 JSON.
// - The browser binding cookie is HttpOnly, SameSite=Lax (it must come back on the top-level redirect from the
//   IdP), Secure and __Host- prefixed when the issuer is https. The IdP-round-trip cookie names the request and is
//   scoped to /oauth/callback.

const FORM = 'application/x-www-form-urlencoded';
const tags = ['sign-in'];
const UPSTREAM_COOKIE = 'custos_signin_upstream';

export interface SigninRoutesDeps {
  flow: SigninFlow;
  device: DeviceFlow;
  sessions: SessionService;
  issuer: () => string;
  /** Ends a session by id (the revocation service, so the cascade and audit are the one path). */
  revokeSession: (req: FastifyRequest, id: string, reason: string) => Promise<unknown>;
}

export function registerSigninRoutes(app: HttpApp, deps: SigninRoutesDeps): void {
  const secure = () => deps.issuer().startsWith('https:');
  const bindingCookie = () => (secure() ? '__Host-custos_signin' : 'custos_signin');

  void app.register(async (scope) => {
    await scope.register(cookie);
    scope.addContentTypeParser(FORM, { parseAs: 'string', bodyLimit: 16 * 1024 }, (_req, body, done) => done(null, new URLSearchParams(body as string)));

    const bindingOf = (req: FastifyRequest): string | undefined => req.cookies[bindingCookie()];
    const setBinding = (reply: FastifyReply, value: string) => reply.setCookie(bindingCookie(), value, {
      path: '/', httpOnly: true, sameSite: 'lax', secure: secure(), maxAge: 24 * 3600,
    });
    /** The browser's binding, made now when it has none (the device entry page starts without a request). */
    const ensureBinding = (req: FastifyRequest, reply: FastifyReply): string => {
      const existing = bindingOf(req);
      if (existing && /^[A-Za-z0-9_-]{43}$/.test(existing)) return existing;
      const fresh = randomSecret();
      setBinding(reply, fresh);
      return fresh;
    };
    const sendPage = (reply: FastifyReply, p: Page, status: number) => reply.code(status)
      .headers({ 'content-type': 'text/html; charset=utf-8', 'content-security-policy': p.csp, 'cache-control': 'no-store', pragma: 'no-cache', 'referrer-policy': 'same-origin' })
      .send(p.html);
    const send = (reply: FastifyReply, outcome: Outcome) => outcome.kind === 'redirect'
      ? reply.code(outcome.status ?? 303).headers({ location: outcome.location, 'cache-control': 'no-store' }).send()
      : sendPage(reply, outcome.page, outcome.status);
    const formOf = (req: FastifyRequest) => (req.body instanceof URLSearchParams ? req.body : new URLSearchParams());
    const postHeaders = (req: FastifyRequest) => ({ origin: req.headers.origin, fetchSite: req.headers['sec-fetch-site'] as string | undefined });
    const urlOf = (req: FastifyRequest) => new URL(req.url, deps.issuer());

    scope.setErrorHandler(async (error, req, reply) => {
      if (req.url.startsWith('/oauth/device_authorization')) {
        const oauth = error instanceof OAuthError ? error : new OAuthError((error as { statusCode?: number }).statusCode === 415 ? 'invalid_request' : 'server_error', error instanceof OAuthError ? error.message : 'the request could not be handled');
        if (oauth.code === 'server_error') req.log.error({ err: error }, 'device authorization failed');
        return reply.code(oauth.status).headers({ 'cache-control': 'no-store' }).type('application/json').send(oauth.toJSON());
      }
      if (error instanceof AuthorizePageError) return sendPage(reply, messagePage('This sign-in cannot continue', error.message, 'error'), 400);
      const status = (error as { statusCode?: number }).statusCode;
      if (status !== undefined && status >= 400 && status < 500) return sendPage(reply, messagePage('Bad request', 'The request could not be read.', 'error'), status);
      req.log.error({ err: error }, 'sign-in page failed');
      return sendPage(reply, messagePage('Something went wrong', 'Custos could not complete this step. Try again from the application.', 'error'), 503);
    });

    const page = { config: { public: true }, schema: { tags, hide: true } } as const;
    const idParams = z.object({ id: z.string().max(100) });

    scope.get('/oauth/authorize', {
      config: { public: true },
      schema: { tags, summary: 'Authorization endpoint (authorization code + PKCE S256, RFC 6749 §4.1, RFC 7636, RFC 8707, RFC 9207): signs the person in and asks their consent' },
    }, async (req, reply) => {
      const outcome = await deps.flow.authorize(urlOf(req), bindingOf(req), requestProvenance(req));
      if (outcome.binding) setBinding(reply, outcome.binding);
      return send(reply, outcome);
    });

    scope.get('/signin/style.css', page, async (_req, reply) => reply.headers({ 'content-type': 'text/css; charset=utf-8', 'cache-control': 'public, max-age=3600' }).send(STYLESHEET));

    scope.get('/signin/:id', { ...page, schema: { ...page.schema, params: idParams } }, async (req, reply) => send(reply, await deps.flow.signInPage((req.params as { id: string }).id, bindingOf(req))));

    scope.get('/signin/:id/idp/:name', { ...page, schema: { ...page.schema, params: z.object({ id: z.string().max(100), name: z.string().max(200) }) } }, async (req, reply) => {
      const { id, name } = req.params as { id: string; name: string };
      const outcome = await deps.flow.beginUpstream(id, name, bindingOf(req));
      if (outcome.kind === 'redirect') reply.setCookie(UPSTREAM_COOKIE, id, { path: '/oauth/callback', httpOnly: true, sameSite: 'lax', secure: secure(), maxAge: 600 });
      return send(reply, outcome);
    });

    scope.get('/oauth/callback', { config: { public: true }, schema: { tags, summary: 'Where the organisation\'s identity provider sends the person back (register this URL at the IdP)' } }, async (req, reply) => {
      const outcome = await deps.flow.completeUpstream(urlOf(req), req.cookies[UPSTREAM_COOKIE], bindingOf(req), requestProvenance(req));
      // Only a completed answer spends the cookie: a forged callback must not strand the real one (it expires anyway).
      if (outcome.kind === 'redirect') reply.clearCookie(UPSTREAM_COOKIE, { path: '/oauth/callback' });
      return send(reply, outcome);
    });

    scope.post('/signin/:id/token', { ...page, schema: { ...page.schema, params: idParams } }, async (req, reply) => (
      send(reply, await deps.flow.operatorToken((req.params as { id: string }).id, bindingOf(req), formOf(req), postHeaders(req), requestProvenance(req)))));

    scope.get('/signin/:id/consent', { ...page, schema: { ...page.schema, params: idParams } }, async (req, reply) => send(reply, await deps.flow.consent((req.params as { id: string }).id, bindingOf(req))));

    scope.post('/signin/:id/consent', { ...page, schema: { ...page.schema, params: idParams } }, async (req, reply) => (
      send(reply, await deps.flow.decide((req.params as { id: string }).id, bindingOf(req), formOf(req), postHeaders(req), requestProvenance(req)))));

    scope.get('/device', { ...page, schema: { ...page.schema, querystring: z.object({ user_code: z.string().max(40).optional() }) } }, async (req, reply) => (
      send(reply, deps.device.entryPage(ensureBinding(req, reply), (req.query as { user_code?: string }).user_code))));

    scope.post('/device', page, async (req, reply) => send(reply, await deps.device.enter(ensureBinding(req, reply), formOf(req), req.headers.origin)));

    scope.post('/oauth/device_authorization', {
      config: { public: true },
      schema: { tags, summary: 'Device authorization endpoint (RFC 8628): a device code and a user code for a headless machine', description: `Form-encoded (${FORM}); client_id of a client registered for the device grant.` },
    }, async (req, reply) => reply.header('cache-control', 'no-store').send(await deps.device.start(readParams(req.body), requestProvenance(req))));
  });

  app.get('/v1/sessions', {
    config: { permission: 'session.read' },
    schema: { tags, summary: 'List people\'s sign-in sessions', querystring: listSessionsQuery, response: { 200: pageSchema(sessionSchema) } },
  }, async (req) => deps.sessions.list({ ...req.query, active: req.query.active === 'true' }));

  app.get('/v1/sessions/:id', {
    config: { permission: 'session.read', errors: ['not_found'] },
    schema: { tags, summary: 'Show a sign-in session', params: sessionParams, response: { 200: sessionSchema } },
  }, async (req) => deps.sessions.get(req.params.id));

  app.post('/v1/sessions/:id/revoke', {
    config: { permission: 'session.revoke', errors: ['not_found'] },
    schema: { tags, summary: 'End a sign-in session: its refresh tokens and every access token obtained through it stop working at once', params: sessionParams, body: revokeSessionBody, response: { 200: sessionSchema } },
  }, async (req) => {
    await deps.sessions.get(req.params.id);
    await deps.revokeSession(req, req.params.id, req.body.reason ?? 'revoked by an operator');
    return deps.sessions.get(req.params.id);
  });
}
