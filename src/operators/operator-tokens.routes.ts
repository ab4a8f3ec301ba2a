import type { HttpApp } from '../platform/http/app.js';
import { pageSchema } from '../platform/http/pagination.js';
import type { OperatorTokenService } from './operator-tokens.service.js';
import {
  listTokensQuery, mintedTokenSchema, mintTokenBody, revokedTokenSchema, revokeTokenBody, tokenIdParams, tokenSchema, whoamiSchema,
} from './operator-tokens.schemas.js';

const tags = ['operator tokens'];

export function registerOperatorTokenRoutes(app: HttpApp, tokens: OperatorTokenService): void {
  app.post('/v1/operator-tokens', {
    config: { permission: 'token.create', errors: ['principal_not_found', 'principal_not_human', 'principal_not_active'] },
    schema: { tags, summary: 'Mint an operator token (shown once)', body: mintTokenBody, response: { 201: mintedTokenSchema } },
  }, async (req, reply) => reply.code(201).send(await tokens.mint(req.actor, req.body)));

  app.get('/v1/operator-tokens', {
    config: { permission: 'token.read' },
    schema: { tags, summary: 'List operator tokens (never their secrets)', querystring: listTokensQuery, response: { 200: pageSchema(tokenSchema) } },
  }, async (req) => tokens.list(req.query));

  app.post('/v1/operator-tokens/:id/revoke', {
    config: { permission: 'token.revoke', errors: ['not_found', 'last_admin'] },
    schema: { tags, summary: 'Revoke an operator token', params: tokenIdParams, body: revokeTokenBody, response: { 200: revokedTokenSchema } },
  }, async (req) => tokens.revoke(req.actor, req.params.id, req.body?.reason));

  app.get('/v1/whoami', {
    config: { permission: 'self.read' },
    schema: { tags, summary: 'The authenticated caller: an operator, or a principal holding an access token or API key', response: { 200: whoamiSchema } },
  }, async (req) => ({
    principal_id: req.actor.principal?.id ?? null, principal_name: req.actor.principal?.name ?? null, role: req.actor.role,
    credential_id: req.actor.credential?.id ?? null, teams: req.actor.teamIds,
    credential_kind: req.actor.credential?.kind ?? null, auth_method: req.actor.authMethod, scope: req.actor.scope, purpose: req.actor.purpose,
    audience: req.actor.audience, dpop_jkt: req.actor.binding?.thumbprint ?? null,
    acting_for: req.actor.delegationChain.map((l) => l.principalName ?? l.principalId), expires_at: req.actor.credential?.expiresAt ?? null,
  }));
}
