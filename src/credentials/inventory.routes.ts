import type { HttpApp } from '../platform/http/app.js';
import { pageSchema } from '../platform/http/pagination.js';
import type { InventoryService } from './inventory.service.js';
import { inventoryItemSchema, listInventoryQuery, revocationResultSchema, revokeCredentialsBody } from './inventory.schemas.js';

// /v1/credentials: the credential inventory and revocation in cascade. One-line handlers; who may see and revoke
// what (owners their own principals, a principal acting for itself only its own) is the service's.

const tags = ['credentials'];

export function registerInventoryRoutes(app: HttpApp, inventory: InventoryService): void {
  app.get('/v1/credentials', {
    config: { permission: 'credential.read', errors: ['not_found'] },
    schema: {
      tags, summary: 'What a principal holds: live access tokens, API keys, client secrets and keys (never a secret)',
      querystring: listInventoryQuery, response: { 200: pageSchema(inventoryItemSchema) },
    },
  }, async (req) => inventory.list(req.actor, req.query));

  app.post('/v1/credentials/revoke', {
    config: { permission: 'credential.revoke', errors: ['not_found', 'principal_not_found'] },
    schema: {
      tags, summary: 'Revoke a token and its descendants, a delegation family, a credential, or everything a principal holds',
      body: revokeCredentialsBody, response: { 200: revocationResultSchema },
    },
  }, async (req) => inventory.revoke(req.actor, req.body));
}
