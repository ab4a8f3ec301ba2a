import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { anonymousActor, type AuthMethod } from '../../platform/actor.js';
import type { HttpApp } from '../../platform/http/app.js';
import { AppError } from '../../platform/http/errors.js';
import { requestProvenance } from '../../platform/http/pipeline/provenance.js';
import type { OAuthClient } from '../contracts.js';
import { MAX_CLIENT_NAME, MAX_REDIRECT_URIS, MAX_SCOPES, SCOPE_TOKEN } from './oauth-clients.schemas.js';
import { DynamicClientLimit, type ClientMetadataInput, type OAuthClientService } from './oauth-clients.service.js';

// RFC 7591 Dynamic Client Registration at POST /oauth/register, open (no initial access token), only when the
// server enables it (--dynamic-client-registration true); otherwise the route does not exist and the path is
// 404. The MCP specification keeps it for clients that predate Client ID Metadata Documents.
//
// Rules:
// - The body is a JSON object of client metadata (RFC 7591 §2), at most 16 KiB. Members this server does not
//   use are ignored (§3.1.1: client_uri, logo_uri, contacts, software_statement, language-tagged names, …);
//   the ones it uses are checked by type here and by the same rules as admin registrations in the service
//   (redirect-uri.ts, grant types).
// - Public clients only: token_endpoint_auth_method must be `none` (absent means none here, and the response
//   says so, as §3.2.1 allows); no client secret is ever issued. response_types may only be `code`, and only
//   with the authorization_code grant (§2.1). grant_types defaults to authorization_code (§2).
// - client_name, when absent, is the host of the first redirect URI (or its scheme, for a private-use URI):
//   the one thing the consent page can show that the client cannot choose freely.
// - Errors are the §3.2.2 JSON shape `{ error, error_description }`, never problem+json: invalid_redirect_uri
//   for a redirect URI, invalid_client_metadata for anything else wrong with the request (400; 413 when the
//   body is too large), access_denied (403) once MAX_DYNAMIC_CLIENTS exist, temporarily_unavailable (503) when
//   the store or the audit log cannot take the registration.
// - The registration is stored (kind dynamic) and audited as signin.client.registered by the anonymous actor
//   with the request's provenance, in one transaction; the 201 answer carries client_id, client_id_issued_at and
//   the registered metadata, with Cache-Control: no-store.

export const DCR_BODY_LIMIT = 16 * 1024;
const MAX_GRANT_TYPES = 10;
const MAX_RESPONSE_TYPES = 10;

// The actor's authMethod for a caller that presented nothing at all. AuthMethod has no member for it yet (asked
// of the owner of platform/actor.ts): the record says 'none', which is the truth, rather than a method nobody used.
const NO_AUTHENTICATION = 'none' as string as AuthMethod;

export type RegistrationErrorCode = 'invalid_redirect_uri' | 'invalid_client_metadata' | 'access_denied' | 'temporarily_unavailable' | 'server_error';

/** A refused registration in the RFC 7591 §3.2.2 shape. */
export class RegistrationError extends Error {
  constructor(readonly code: RegistrationErrorCode, description: string, readonly status = 400) {
    super(description);
    this.name = 'RegistrationError';
  }

  toJSON(): { error: RegistrationErrorCode; error_description: string } {
    return { error: this.code, error_description: this.message };
  }
}

const metadataError = (description: string) => new RegistrationError('invalid_client_metadata', description);

function stringList(body: Record<string, unknown>, member: string, max: number, error: (d: string) => RegistrationError): string[] | undefined {
  const value = body[member];
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw error(`${member} must be an array of strings`);
  if (value.length > max) throw error(`${member} holds more than ${max} entries`);
  return value as string[];
}

function optionalString(body: Record<string, unknown>, member: string, max: number): string | undefined {
  const value = body[member];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw metadataError(`${member} must be a string`);
  if (value.length > max) throw metadataError(`${member} is longer than ${max} characters`);
  return value;
}

/** What the consent page calls a client that named itself nothing: where its codes go. */
function defaultName(redirectUris: readonly string[]): string {
  const first = redirectUris[0];
  if (first === undefined) return 'unnamed client';
  try {
    const url = new URL(first);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.host : url.protocol.slice(0, -1);
  } catch {
    return 'unnamed client'; // the service refuses the URI itself
  }
}

/** Reads RFC 7591 client metadata into the service's input (rules above); throws RegistrationError. */
export function readRegistrationMetadata(body: unknown): ClientMetadataInput {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw metadataError('the registration request must be a JSON object of client metadata (RFC 7591 §3.1)');
  const b = body as Record<string, unknown>;

  const redirectUris = stringList(b, 'redirect_uris', MAX_REDIRECT_URIS, (d) => new RegistrationError('invalid_redirect_uri', d)) ?? [];
  const grantTypes = stringList(b, 'grant_types', MAX_GRANT_TYPES, metadataError) ?? ['authorization_code'];
  const responseTypes = stringList(b, 'response_types', MAX_RESPONSE_TYPES, metadataError);
  const authMethod = optionalString(b, 'token_endpoint_auth_method', 100);
  const name = optionalString(b, 'client_name', MAX_CLIENT_NAME);
  const scopeText = optionalString(b, 'scope', 10_000);

  if (authMethod !== undefined && authMethod !== 'none') {
    throw metadataError(`token_endpoint_auth_method '${authMethod}' is not supported: this server registers public clients only (none), and issues no client secret`);
  }
  // The device grant lets whoever started it receive the tokens of whoever enters the code: a self-registered
  // client could phish with it under any name, so only administrators register device clients.
  if (grantTypes.includes('urn:ietf:params:oauth:grant-type:device_code')) {
    throw metadataError('the device authorization grant is not available to dynamically registered clients; an administrator registers device clients');
  }
  const codeFlow = grantTypes.includes('authorization_code');
  if (responseTypes !== undefined) {
    const other = responseTypes.find((t) => t !== 'code');
    if (other !== undefined) throw metadataError(`response_type '${other}' is not supported: only code (the authorization code flow with PKCE)`);
    if (responseTypes.includes('code') && !codeFlow) throw metadataError('response_types code needs the authorization_code grant in grant_types (RFC 7591 §2.1)');
    if (codeFlow && !responseTypes.includes('code')) throw metadataError('the authorization_code grant needs the code response type in response_types (RFC 7591 §2.1)');
  }

  let scope: string[] | null = null;
  if (scopeText !== undefined && scopeText.trim().length > 0) {
    scope = scopeText.split(' ').filter(Boolean);
    const bad = scope.find((s) => !SCOPE_TOKEN.test(s));
    if (bad !== undefined) throw metadataError('scope holds a value that is not an RFC 6749 §3.3 scope token (printable ASCII, at most 128 characters, no quotes or backslashes)');
    if (scope.length > MAX_SCOPES) throw metadataError(`scope holds more than ${MAX_SCOPES} scopes`);
  }

  return { name: name !== undefined && name.trim().length > 0 ? name : defaultName(redirectUris), redirectUris, grantTypes, scope };
}

export const registrationResponseSchema = z.object({
  client_id: z.string(),
  client_id_issued_at: z.number().int(),
  client_name: z.string(),
  redirect_uris: z.array(z.string()),
  grant_types: z.array(z.string()),
  response_types: z.array(z.string()),
  token_endpoint_auth_method: z.literal('none'),
  scope: z.string().optional(),
});
export type RegistrationResponse = z.infer<typeof registrationResponseSchema>;

export function registrationResponse(client: OAuthClient, issuedAt: Date): RegistrationResponse {
  return {
    client_id: client.clientId,
    client_id_issued_at: Math.floor(issuedAt.getTime() / 1000),
    client_name: client.name,
    redirect_uris: client.redirectUris,
    grant_types: client.grantTypes,
    response_types: client.grantTypes.includes('authorization_code') ? ['code'] : [],
    token_endpoint_auth_method: 'none',
    ...(client.scope !== null ? { scope: client.scope.join(' ') } : {}),
  };
}

/** Anything thrown on the registration route, in the §3.2.2 shape. */
export function asRegistrationError(error: unknown): RegistrationError {
  if (error instanceof RegistrationError) return error;
  if (error instanceof DynamicClientLimit) return new RegistrationError('access_denied', error.message, 403);
  if (error instanceof AppError) {
    if (error.code === 'invalid_client_metadata') {
      return new RegistrationError(error.extensions.field === 'redirect_uris' ? 'invalid_redirect_uri' : 'invalid_client_metadata', error.message);
    }
    if (error.status >= 500) return new RegistrationError('temporarily_unavailable', 'the registration could not be stored or recorded; nothing was registered, retry later', 503);
    return metadataError(error.message);
  }
  switch ((error as FastifyError | undefined)?.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': return new RegistrationError('invalid_client_metadata', `the registration request is larger than ${DCR_BODY_LIMIT} bytes`, 413);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': return metadataError('send the client metadata as application/json (RFC 7591 §3.1)');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY': return metadataError('the registration request is empty; send a JSON object of client metadata');
    case 'FST_ERR_CTP_INVALID_JSON_BODY': return metadataError('the registration request is not valid JSON');
    default: break;
  }
  if (error instanceof SyntaxError) return metadataError('the registration request is not valid JSON');
  const status = (error as { statusCode?: number } | undefined)?.statusCode;
  if (status !== undefined && status >= 400 && status < 500) return metadataError('the registration request could not be read');
  return new RegistrationError('server_error', 'internal error', 500);
}

function sendRegistrationError(req: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply {
  const refusal = asRegistrationError(error);
  if (refusal.status >= 500) req.log.error({ err: error }, 'dynamic client registration failed');
  return reply.code(refusal.status).headers({ 'cache-control': 'no-store', pragma: 'no-cache' }).type('application/json').send(refusal.toJSON());
}

/** Registers POST /oauth/register when `enabled`; registers nothing otherwise (the path is then 404). */
export function registerDynamicRegistrationRoute(app: HttpApp, clients: OAuthClientService, options: { enabled: boolean }): void {
  if (!options.enabled) return;
  app.post('/oauth/register', {
    config: { public: true },
    bodyLimit: DCR_BODY_LIMIT,
    errorHandler: (error, req, reply) => sendRegistrationError(req, reply, error),
    schema: {
      tags: ['oauth'],
      summary: 'Dynamic Client Registration (RFC 7591): register a public client (token_endpoint_auth_method none)',
      description: `JSON client metadata, at most ${DCR_BODY_LIMIT} bytes: redirect_uris, client_name, grant_types, response_types (code), token_endpoint_auth_method (none), scope. Unknown members are ignored. Errors are RFC 7591 §3.2.2 JSON ({ error, error_description }).`,
      response: { 201: registrationResponseSchema },
    },
  }, async (req, reply) => {
    const metadata = readRegistrationMetadata(req.body);
    const { client, issuedAt } = await clients.registerDynamic(anonymousActor(NO_AUTHENTICATION, requestProvenance(req)), metadata);
    return reply.code(201).headers({ 'cache-control': 'no-store', pragma: 'no-cache' }).send(registrationResponse(client, issuedAt));
  });
}
