// The peer for the refresh bench: oidc-provider (npm, v9) configured for what Custos does when a person's client
// refreshes — a public client (`token_endpoint_auth_method: none`, PKCE), the authorization code flow, refresh tokens
// rotated at every use (`rotateRefreshToken: true`) with reuse detection (a consumed one presented again revokes the
// grant), and JWT access tokens (RFC 9068 `at+jwt`, EdDSA, 15 minutes) for one default resource — started as its
// own process by bench/refresh/peer.ts. Plain JavaScript: oidc-provider ships no types and this file is not Custos.
//
// Rules:
// - Configuration comes as one JSON argument: { port, clientId, redirectUri, signingJwk (private), resource, scope,
//   accountId, adapter: 'memory' | 'sqlite' | 'postgres', sqliteFile?, databaseUrl? }. Nothing else is read.
// - 'memory' keeps oidc-provider's default in-memory adapter (as its README ships it); 'sqlite' and 'postgres' use
//   oidc-adapters.js (each adapter call its own commit).
// - Sign-in for the bench's setup: `/interaction/<uid>` is answered by this file, not by a person: it logs in
//   `accountId` and grants `offline_access` and the resource's scope (provider.interactionDetails, a Grant, then
//   provider.interactionFinished) — oidc-provider's documented way for an application to finish an interaction.
//   Everything else (authorize, resume, token) is oidc-provider's own. The setup walks that flow over HTTP.
// - It prints `listening on http://127.0.0.1:<port>` on stderr once it accepts connections, and exits on SIGTERM.
import crypto from 'node:crypto';
import http from 'node:http';
import Provider from 'oidc-provider';
import { postgresAdapter, sqliteAdapter } from './oidc-adapters.js';

const config = JSON.parse(process.argv[2] ?? '{}');
const issuer = `http://127.0.0.1:${config.port}`;

let adapter;
let closeAdapter = async () => undefined;
if (config.adapter === 'sqlite') adapter = sqliteAdapter(config.sqliteFile);
else if (config.adapter === 'postgres') ({ Adapter: adapter, close: closeAdapter } = await postgresAdapter(config.databaseUrl));
else if (config.adapter !== 'memory') throw new Error(`unknown adapter ${config.adapter}`);

const provider = new Provider(issuer, {
  ...(adapter ? { adapter } : {}),
  clients: [{
    client_id: config.clientId,
    application_type: 'native',
    token_endpoint_auth_method: 'none',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: [config.redirectUri],
  }],
  jwks: { keys: [config.signingJwk] },
  scopes: ['offline_access'],
  cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
  rotateRefreshToken: true,
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  features: {
    devInteractions: { enabled: false },
    introspection: { enabled: false },
    revocation: { enabled: false },
    userinfo: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => config.resource,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx, resourceIndicator) => {
        if (resourceIndicator !== config.resource) throw new Provider.errors.InvalidTarget();
        return {
          scope: config.scope,
          audience: config.resource,
          accessTokenTTL: 15 * 60,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'EdDSA' } },
        };
      },
    },
  },
  ttl: { RefreshToken: 12 * 3600, AuthorizationCode: 60, Interaction: 600, Session: 12 * 3600, Grant: 12 * 3600 },
  clientDefaults: { id_token_signed_response_alg: 'EdDSA' },
});
provider.on('server_error', (_ctx, error) => process.stderr.write(`server_error: ${error?.stack ?? error?.message}\n`));

/** The bench's stand-in for a person at the sign-in and consent pages: log in and grant, in one step. */
async function finishInteraction(req, res) {
  const details = await provider.interactionDetails(req, res);
  const accountId = details.session?.accountId ?? config.accountId;
  const grant = details.grantId ? await provider.Grant.find(details.grantId) : new provider.Grant({ accountId, clientId: details.params.client_id });
  grant.addOIDCScope('offline_access');
  grant.addResourceScope(config.resource, config.scope);
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { login: { accountId }, consent: { grantId } }, { mergeWithLastSubmission: false });
}

const callback = provider.callback();
const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url?.startsWith('/interaction/')) {
    finishInteraction(req, res).catch((error) => {
      res.statusCode = 500;
      res.end(String(error?.message ?? error));
    });
    return;
  }
  callback(req, res);
});
server.keepAliveTimeout = 65_000;
server.listen(config.port, '127.0.0.1', () => process.stderr.write(`listening on ${issuer}\n`));
process.on('SIGTERM', () => server.close(() => { void closeAdapter().finally(() => process.exit(0)); }));
