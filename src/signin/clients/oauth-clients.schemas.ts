import { z } from 'zod';
import { paginationQuery } from '../../platform/http/pagination.js';
import { MAX_REDIRECT_URI_LENGTH } from './redirect-uri.js';

// Request and response shapes of /v1/oauth-clients (OAuth clients for people: public clients using the
// authorization code grant with PKCE, refresh tokens, the device grant); the OpenAPI document is generated
// from them. The shapes bound every field and close the grant types; the rules that need more than a shape
// (redirect URIs, grant types that go together) are the service's, answered with invalid_client_metadata and
// a detail naming the field.

/** The grant types a client for people may use (public clients only: no client_credentials, no secrets). */
export const CLIENT_GRANT_TYPES = ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'] as const;
export type ClientGrantType = (typeof CLIENT_GRANT_TYPES)[number];
export const DEFAULT_GRANT_TYPES: ClientGrantType[] = ['authorization_code', 'refresh_token'];
export const CLIENT_SOURCES = ['registered', 'dynamic', 'builtin'] as const;
export const MAX_REDIRECT_URIS = 20;
export const MAX_SCOPES = 100;
export const MAX_CLIENT_NAME = 200;

/** RFC 6749 §3.3 scope-token, bounded: printable ASCII without space, `"` or `\`. */
export const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]{1,128}$/;
const scopeToken = z.string().regex(SCOPE_TOKEN, 'a scope is 1-128 printable ASCII characters without spaces, quotes or backslashes');
const clientName = z.string().trim().min(1).max(MAX_CLIENT_NAME).describe('Shown to people on the consent page');
const redirectUris = z.array(z.string().min(1).max(MAX_REDIRECT_URI_LENGTH)).max(MAX_REDIRECT_URIS)
  .describe('Exact redirect URIs (https; http only to 127.0.0.1, [::1] — any port — or localhost; or a reverse-domain private-use scheme). Needed with authorization_code');
const grantTypes = z.array(z.enum(CLIENT_GRANT_TYPES)).min(1).max(CLIENT_GRANT_TYPES.length)
  .describe(`Grants the client may use (default ${DEFAULT_GRANT_TYPES.join(', ')}); refresh_token needs authorization_code or the device grant`);
const scopeList = z.array(scopeToken).max(MAX_SCOPES)
  .describe('Scopes the client may ask for; null or absent: whatever the person holds');
const reason = z.string().max(1000).optional().describe('Why: recorded in the audit log');

export const createClientBody = z.strictObject({
  name: clientName,
  redirect_uris: redirectUris,
  grant_types: grantTypes.optional(),
  scope: scopeList.nullable().optional(),
  reason,
});
export type CreateClientInput = z.infer<typeof createClientBody>;

export const updateClientBody = z.strictObject({
  name: clientName.optional(),
  redirect_uris: redirectUris.optional().describe('Replaces every redirect URI'),
  grant_types: grantTypes.optional().describe('Replaces the grant types'),
  scope: scopeList.nullable().optional().describe('Replaces the allowed scopes; null: whatever the person holds'),
  reason,
});
export type UpdateClientInput = z.infer<typeof updateClientBody>;

export const clientSchema = z.object({
  client_id: z.string(),
  name: z.string(),
  source: z.enum(CLIENT_SOURCES).describe('registered: by an admin; dynamic: RFC 7591 registration; builtin: part of the server (custos-cli)'),
  redirect_uris: z.array(z.string()),
  grant_types: z.array(z.string()),
  scope: z.array(z.string()).nullable(),
  created_at: z.string().nullable(),
  created_by: z.string().nullable(),
});
export type ClientView = z.infer<typeof clientSchema>;

export const listClientsQuery = z.strictObject({
  ...paginationQuery,
  source: z.enum(CLIENT_SOURCES).optional().describe('Only clients from this source'),
});
export type ListClientsQuery = z.infer<typeof listClientsQuery>;
export const clientIdParams = z.strictObject({ client_id: z.string().min(1).max(200) });
export const deleteClientQuery = z.strictObject({ reason });
