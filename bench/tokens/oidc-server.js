// The peer for the HTTP token figure: oidc-provider (npm, v9) configured for the same grant as Custos —
// client_credentials, client authentication by private_key_jwt with an Ed25519 key, JWT access tokens
// (RFC 9068 `at+jwt`, EdDSA) for one resource indicator with an audience — started as its own process by
// bench/tokens/http.ts. Plain JavaScript: oidc-provider ships no types and this file is not part of Custos.
//
// Rules:
// - Configuration comes as one JSON argument: { port, clientId, clientJwk (public), signingJwk (private),
//   resource, scope }. Nothing else is read from the environment.
// - It keeps oidc-provider's default in-memory adapter (as its README ships it): the client assertion replay
//   check (ReplayDetection) lives in this process's memory, and JWT access tokens are not stored at all.
// - It prints `listening on http://127.0.0.1:<port>` on stderr once it accepts connections, and exits on SIGTERM.
import http from 'node:http';
import Provider from 'oidc-provider';

const config = JSON.parse(process.argv[2] ?? '{}');
const issuer = `http://127.0.0.1:${config.port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: config.clientId,
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'EdDSA',
    jwks: { keys: [config.clientJwk] },
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    scope: config.scope,
  }],
  jwks: { keys: [config.signingJwk] },
  scopes: config.scope.split(' '),
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    introspection: { enabled: false },
    revocation: { enabled: false },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => config.resource,
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
  ttl: { ClientCredentials: 15 * 60 },
  clientDefaults: { id_token_signed_response_alg: 'EdDSA' },
});
provider.on('server_error', (_ctx, error) => process.stderr.write(`server_error: ${error?.message}\n`));

const server = http.createServer(provider.callback());
server.keepAliveTimeout = 65_000;
server.listen(config.port, '127.0.0.1', () => process.stderr.write(`listening on ${issuer}\n`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
