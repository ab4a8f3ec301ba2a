import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { OPERATOR_ROLES } from '../../platform/actor.js';
import { DEFAULT_TTL_SECONDS, MAX_TTL_SECONDS, MIN_TTL_SECONDS, type TokenView } from '../../operators/index.js';
import { CREDENTIAL_ID_PATTERN } from '../../platform/credential-format.js';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { CliError, resolveServer, resolveToken } from '../client.js';
import { collect, defined, examples, splitList, fetchPages, integerIn, pageOptions, withClient, type GlobalOptions } from '../common.js';
import { clientAuthParams, discover, dpopProof, postForm, readPrivateKey, type ClientAuth } from '../oauth-client.js';
import { printJson, printRecord, printTable, type CliIo } from '../output.js';

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const AT = 'urn:ietf:params:oauth:token-type:access_token';
const JWT = 'urn:ietf:params:oauth:token-type:jwt';

/** How an OAuth client authenticates: --private-key (private_key_jwt) or CUSTOS_CLIENT_SECRET (client_secret_post). */
async function clientAuthOf(o: { principal: string; privateKey?: string; kid?: string }, io: CliIo): Promise<ClientAuth> {
  const secret = io.env.CUSTOS_CLIENT_SECRET;
  if (!o.privateKey && !secret) throw new CliError('give --private-key FILE (private_key_jwt) or set CUSTOS_CLIENT_SECRET (client_secret_post)', 2);
  return o.privateKey ? { clientId: o.principal, kid: o.kid, privateKey: await readPrivateKey(o.privateKey) } : { clientId: o.principal, clientSecret: secret! };
}

/** The OAuth `scope` parameter (space-separated) from what the user typed: spaces or commas. */
const scopeParam = (value: string | undefined) => (value === undefined ? undefined : splitList(value).join(' '));

function readTokenArg(value: string): string {
  const token = value === '-' ? require_stdin() : value.trim();
  if (!JWT_SHAPE.test(token)) throw new CliError('not an access token (a JWT: three base64url parts)', 2);
  return token;
}

function require_stdin(): string {
  return readFileSync(0, 'utf8').trim();
}

/** Prints a token response: the token alone on stdout (for scripts), the rest on stderr; everything with --json. */
function printIssued(io: CliIo, g: GlobalOptions, body: Record<string, unknown>, client: string): void {
  if (g.json) return printJson(io, body);
  io.stdout.write(`${String(body.access_token)}\n`);
  const claims = decodeJwt(String(body.access_token));
  io.stderr.write(`${String(body.token_type)} token ${claims.act ? `for ${String(claims.sub)}, held by ${client} acting for it` : `for ${client}`}, scope '${String(body.scope ?? '')}', purpose ${String(claims.purpose ?? '(none)')}, expires in ${String(body.expires_in)} s\n`);
}

const issueOptions = (cmd: Command) => cmd
  .requiredOption('--principal <id-or-name>', 'the client: the principal the key or secret belongs to')
  .option('--private-key <file>', 'PKCS#8 PEM private key registered for the principal (custos client-key add); else CUSTOS_CLIENT_SECRET is used')
  .option('--kid <kid>', 'key id to name in the client assertion (default: none, every registered key is tried)')
  .option('--scope <scopes>', 'scopes, space- or comma-separated (default: all approved)')
  .option('--purpose <purpose>', 'one of the principal\'s allowed purposes (may be omitted when it has one)')
  .option('--resource <indicator>', 'audience: a registered resource (name, uri or urn:custos:resource:name); repeatable', collect)
  .addOption(new Option('--expires-in <seconds>', 'requested lifetime, 60 at least; capped by the principal\'s risk tier').argParser(integerIn('--expires-in', 60, 86_400)))
  .option('--dpop-key <file>', 'bind the token to this PKCS#8 PEM key (DPoP); it must sign a proof on every use');

export function registerTokenCommands(program: Command, io: CliIo): void {
  const token = program.command('token').description('operator tokens for people who run Custos, and OAuth access tokens for agents');

  issueOptions(token.command('issue').description('get an access token for an agent or service (client_credentials); needs no operator token'))
    .addHelpText('after', examples(
      'custos token issue --principal support-bot --private-key agent.pem --purpose support --resource https://gw.example.com',
      'TOKEN=$(custos token issue --principal support-bot --private-key agent.pem --dpop-key dpop.pem)',
    ))
    .action(async (o, cmd: Command) => {
      const g = cmd.optsWithGlobals() as GlobalOptions;
      const meta = await discover(resolveServer(g, io.env));
      const auth = await clientAuthParams(await clientAuthOf(o, io), meta.issuer);
      const headers = o.dpopKey ? { dpop: await dpopProof(await readPrivateKey(o.dpopKey), 'POST', meta.token_endpoint) } : undefined;
      const { body } = await postForm(meta.token_endpoint, {
        grant_type: 'client_credentials', ...auth, scope: scopeParam(o.scope), purpose: o.purpose, resource: o.resource, expires_in: o.expiresIn?.toString(),
      }, headers);
      printIssued(io, g, body, o.principal);
    });

  issueOptions(token.command('exchange').description('act for another principal: exchange its access token for a delegated one (RFC 8693); the client is the actor')
    .requiredOption('--subject-token <token>', 'the delegator\'s access token (- reads it from stdin)'))
    .addHelpText('after', examples('custos token exchange --subject-token "$PLANNER_TOKEN" --principal worker-bot --private-key worker.pem --scope models:invoke'))
    .action(async (o, cmd: Command) => {
      const g = cmd.optsWithGlobals() as GlobalOptions;
      const subject = readTokenArg(o.subjectToken);
      const meta = await discover(resolveServer(g, io.env));
      const client = await clientAuthOf(o, io);
      const auth = await clientAuthParams(client, meta.issuer);
      // The actor proves itself with a second assertion of its own (or, with a secret, its own fresh token).
      const actor = client.privateKey
        ? { actor_token: (await clientAuthParams(client, meta.issuer)).client_assertion!, actor_token_type: JWT }
        : { actor_token: (await postForm(meta.token_endpoint, { grant_type: 'client_credentials', ...auth })).body.access_token as string, actor_token_type: AT };
      const headers = o.dpopKey ? { dpop: await dpopProof(await readPrivateKey(o.dpopKey), 'POST', meta.token_endpoint) } : undefined;
      const { body } = await postForm(meta.token_endpoint, {
        grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange', ...auth, subject_token: subject, subject_token_type: AT, ...actor,
        scope: scopeParam(o.scope), purpose: o.purpose, resource: o.resource, expires_in: o.expiresIn?.toString(),
      }, headers);
      printIssued(io, g, body, o.principal);
    });

  token.command('inspect <token>').description('decode an access token (no secret needed) and, with an admin or security operator token, ask the server whether it is active')
    .option('--offline', 'only decode; do not ask the server (RFC 7662 introspection)')
    .addHelpText('after', examples('custos token inspect "$TOKEN"', 'echo "$TOKEN" | custos token inspect - --offline --json'))
    .action(async (value: string, o, cmd: Command) => {
      const g = cmd.optsWithGlobals() as GlobalOptions;
      const tokenValue = readTokenArg(value);
      let header: Record<string, unknown>;
      let claims: Record<string, unknown>;
      try {
        header = decodeProtectedHeader(tokenValue) as Record<string, unknown>;
        claims = decodeJwt(tokenValue) as Record<string, unknown>;
      } catch {
        throw new CliError('not a decodable JWT', 2);
      }
      let introspection: Record<string, unknown> | undefined;
      const operator = resolveToken(g, io.env);
      if (!o.offline && operator) {
        const meta = await discover(resolveServer(g, io.env));
        introspection = (await postForm(meta.introspection_endpoint, { token: tokenValue }, { authorization: `Bearer ${operator}` })).body;
      }
      if (g.json) return printJson(io, { header, claims, ...(introspection ? { introspection } : {}) });
      const when = (n: unknown) => (typeof n === 'number' ? new Date(n * 1000).toISOString() : '');
      printRecord(io, {
        active: introspection ? String(introspection.active) : '(not asked)', typ: header.typ, alg: header.alg, kid: header.kid,
        iss: claims.iss, sub: claims.sub, client_id: claims.client_id, aud: Array.isArray(claims.aud) ? claims.aud.join(' ') : claims.aud,
        scope: claims.scope, purpose: claims.purpose, jti: claims.jti, issued: when(claims.iat), expires: when(claims.exp),
        dpop_jkt: (claims.cnf as { jkt?: string } | undefined)?.jkt, acting_for: claims.act ? `${String(claims.sub)} (act: ${JSON.stringify(claims.act)})` : '',
        amr: Array.isArray(claims.amr) ? claims.amr.join(' ') : '',
      });
    });

  token.command('create <principal>').description('mint an operator token for a human principal (printed once)')
    .addOption(new Option('--role <role>', 'the role the token carries').choices(OPERATOR_ROLES).makeOptionMandatory())
    .addOption(new Option('--ttl <seconds>', `lifetime in seconds, ${MIN_TTL_SECONDS} (1 minute) to ${MAX_TTL_SECONDS} (90 days); default ${DEFAULT_TTL_SECONDS} (12 hours)`)
      .argParser(integerIn('--ttl', MIN_TTL_SECONDS, MAX_TTL_SECONDS)))
    .option('--description <text>', 'what the token is for (shown in token list and the audit log)')
    .addHelpText('after', '\nExample:\n  custos token create alice --role security --ttl 3600 --description "incident 42"\n')
    .action(withClient(io, async (client, g, principal: string, o) => {
      const ttl = o.ttl as number | undefined;
      const t = await client.request<TokenView & { token: string }>('POST', '/v1/operator-tokens', defined({ principal, role: o.role, ttl_seconds: ttl, description: o.description }));
      if (g.json) return printJson(io, t);
      io.stdout.write(`${t.token}\n`);
      io.stderr.write(`token ${t.id} for '${t.principal.name}' as ${t.role}, expires ${t.expires_at}. It is shown only this once.\n`);
    }));

  pageOptions(token.command('list').description('list operator tokens (never their secrets)')
    .option('--principal <name>', 'only the tokens of this principal (id or name)')
    .option('--include-revoked', 'include revoked tokens')
    .addHelpText('after', '\nExample:\n  custos token list --principal alice --include-revoked\n'))
    .action(withClient(io, async (client, g, o) => {
      const params = new URLSearchParams(defined({ principal: o.principal, include_revoked: o.includeRevoked ? 'true' : undefined, limit: o.limit, cursor: o.cursor }) as Record<string, string>);
      const page = await fetchPages<TokenView>(client, '/v1/operator-tokens', params, Boolean(o.all));
      if (g.json) return printJson(io, page);
      printTable(io, ['ID', 'PRINCIPAL', 'ROLE', 'EXPIRES', 'REVOKED', 'LAST USED'], page.items.map((t) => [t.id, t.principal.name, t.role, t.expires_at, t.revoked_at ?? '', t.last_used_at ?? '']));
    }));

  token.command('revoke <id>').description('revoke at once: an operator token (by id), or an access token and every token derived from it (the token itself, or its jti)')
    .option('--reason <text>', 'why (recorded in the audit log)')
    .addHelpText('after', examples('custos token revoke abcdefghijklmnop --reason "laptop lost"', 'custos token revoke "$LEAKED_ACCESS_TOKEN"', 'custos token revoke 019a3b1c-…-jti --reason "agent misbehaved"'))
    .action(withClient(io, async (client, g, id: string, o) => {
      if (JWT_SHAPE.test(id) || UUID.test(id)) {
        const jti = UUID.test(id) ? id : String(decodeJwt(id).jti ?? '');
        if (!UUID.test(jti)) throw new CliError('the access token carries no jti issued here', 2);
        const r = await client.request<{ already_revoked: boolean; cascade: unknown[] }>('POST', '/v1/credentials/revoke', defined({ jti, reason: o.reason }));
        if (g.json) return printJson(io, r);
        io.stdout.write(r.already_revoked ? `access token ${jti} was already revoked; nothing changed\n` : `revoked access token ${jti} and ${r.cascade?.length ?? 0} derived from it\n`);
        return;
      }
      if (!CREDENTIAL_ID_PATTERN.test(id)) throw new CliError(`'${id}' is not a token id (16 characters a-z, 2-7; see custos token list), an access token or a jti`, 2);
      const t = await client.request<TokenView & { already_revoked?: boolean }>('POST', `/v1/operator-tokens/${encodeURIComponent(id)}/revoke`, defined({ reason: o.reason }));
      if (g.json) printJson(io, t);
      else io.stdout.write(t.already_revoked ? `token ${t.id} was already revoked at ${t.revoked_at}; nothing changed\n` : `revoked ${t.id}\n`);
    }));

  token.command('proof').description('make a DPoP proof (RFC 9449) for one request with a bound token, e.g. for curl')
    .requiredOption('--dpop-key <file>', 'the PKCS#8 PEM key the token is bound to')
    .requiredOption('--url <url>', 'the full URL of the request (scheme, host, path; no query)')
    .option('--method <method>', 'the request method', 'GET')
    .option('--access-token <token>', 'the access token the proof goes with (its hash becomes ath); - reads it from stdin')
    .option('--nonce <nonce>', 'the server nonce from a DPoP-Nonce header, when the server asks for one')
    .addHelpText('after', examples('curl -H "Authorization: DPoP $T" -H "DPoP: $(custos token proof --dpop-key dpop.pem --url http://127.0.0.1:8080/v1/whoami --access-token "$T")" http://127.0.0.1:8080/v1/whoami'))
    .action(async (o) => {
      const signer = await readPrivateKey(o.dpopKey);
      const extra: Record<string, unknown> = {};
      if (o.accessToken) extra.ath = createHash('sha256').update(readTokenArg(o.accessToken)).digest('base64url');
      if (o.nonce) extra.nonce = o.nonce;
      io.stdout.write(`${await dpopProof(signer, String(o.method).toUpperCase(), o.url, extra)}\n`);
    });

  program.command('whoami').description('show who the current credential acts as (an operator and its role, or a principal with its token or API key) and where it came from: a custos login session, --token, CUSTOS_TOKEN or the bootstrap token file')
    .addHelpText('after', examples('custos whoami', 'CUSTOS_TOKEN=custos_op_... custos whoami'))
    .action(withClient(io, async (client, g) => {
      const me = await client.request<Record<string, unknown>>('GET', '/v1/whoami');
      const used = await client.credential();
      const stored = used?.source === 'session' ? used : undefined;
      const session = stored?.session;
      if (g.json) {
        return printJson(io, {
          ...me, credential_source: used?.source ?? null,
          session: session ? { method: session.method, signed_in_at: session.signed_in_at, access_token_expires_at: session.expires_at, file: stored!.file } : null,
        });
      }
      const from = used?.source === 'flag' ? 'from --token' : used?.source === 'env' ? 'from CUSTOS_TOKEN' : used?.source === 'bootstrap' ? `from ${used.file}` : '';
      if (session) {
        // The server names the access token (its jti), not the session; the session's story is ours.
        const how = `${session.method === 'browser' ? 'the browser' : 'a device code'} at ${session.signed_in_at}${me.auth_method === 'operator_token' ? ' using an operator token' : me.auth_method === 'federated' ? ' through an identity provider' : ''}`;
        return void io.stdout.write(`${me.principal_name}${me.role ? ` (${me.role})` : ''} via session (signed in with ${how}; access token ${me.credential_id} expires ${session.expires_at}, renewed until the session ends)\n`);
      }
      if (me.role) return void io.stdout.write(`${me.principal_name} (${me.role}) via ${String(me.credential_kind).replace('_', ' ')} ${me.credential_id}, ${from}\n`);
      const acting = Array.isArray(me.acting_for) && me.acting_for.length ? `, acting for ${me.acting_for.join(' → ')}` : '';
      io.stdout.write(`${me.principal_name} via ${String(me.credential_kind).replace('_', ' ')} ${me.credential_id} (${me.auth_method}${me.purpose ? `, purpose ${me.purpose}` : ''}${me.dpop_jkt ? ', DPoP-bound' : ''}${acting}), expires ${me.expires_at ?? 'never'}, ${from}\n`);
    }));
}
