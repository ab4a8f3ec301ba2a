import fs from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { OPERATOR_ROLES } from '../../platform/actor.js';
import {
  CLIENT_AUTH_METHODS, DEFAULT_SCOPES, NEW_PRINCIPAL_STATUSES, SUBJECT_CLAIMS, type IdentityProviderView,
} from '../../signin/identity-providers.schemas.js';
import { CliError } from '../client.js';
import { defined, examples, fetchPages, pageOptions, splitList, withClient } from '../common.js';
import { printJson, printRecord, printTable, type CliIo } from '../output.js';

// `custos idp add|list|show|remove`: the organisation's identity providers (Okta, Entra ID, Google, Keycloak, any
// OpenID Connect provider) people sign in through. The client secret is never a flag value (it would sit in the
// shell history and the process list): it is read from a file (--client-secret-file) or standard input
// (--client-secret-stdin). Group mappings are repeatable `group=role` / `group=team` flags; the group is
// everything before the last `=`, so a group name may itself contain `=`.

/** The input stream the secret may come from (tests give one; the process's otherwise). */
export type IdpIo = CliIo & { stdin?: NodeJS.ReadableStream };

/** Parses one `group=value` mapping flag into [group, value]. */
export function parseGroupMapping(flag: string, value: string): [string, string] {
  const i = value.lastIndexOf('=');
  if (i <= 0 || i === value.length - 1) throw new InvalidArgumentError(`${flag} '${value}' must be group=value`);
  return [value.slice(0, i), value.slice(i + 1)];
}

/** Commander collector for a repeatable mapping flag; `check` refuses a bad value. A group named twice is refused. */
export function collectMapping(flag: string, check: (value: string) => void = () => undefined) {
  return (value: string, previous: Record<string, string> = {}): Record<string, string> => {
    const [group, target] = parseGroupMapping(flag, value);
    if (Object.hasOwn(previous, group)) throw new InvalidArgumentError(`${flag} names the group '${group}' twice`);
    check(target);
    return { ...previous, [group]: target };
  };
}

const checkRole = (role: string) => {
  if (!(OPERATOR_ROLES as readonly string[]).includes(role)) throw new InvalidArgumentError(`--group-role role '${role}' is not one of ${OPERATOR_ROLES.join(', ')}`);
};

function readSecretFile(file: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read --client-secret-file '${file}': ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 2);
  }
  return text.replace(/\r?\n$/, '');
}

async function readSecretStdin(io: IdpIo): Promise<string> {
  const stdin = io.stdin ?? process.stdin;
  if ((stdin as NodeJS.ReadStream).isTTY) throw new CliError('--client-secret-stdin reads a pipe (printf %s "$SECRET" | custos idp add …); use --client-secret-file at a terminal', 2);
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  // One trailing newline (echo, a file) is not part of the secret.
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

async function clientSecret(io: IdpIo, o: { clientSecretFile?: string; clientSecretStdin?: boolean }): Promise<string | undefined> {
  if (o.clientSecretFile !== undefined && o.clientSecretStdin) throw new CliError('give one of --client-secret-file or --client-secret-stdin', 2);
  const secret = o.clientSecretFile !== undefined ? readSecretFile(o.clientSecretFile) : o.clientSecretStdin ? await readSecretStdin(io) : undefined;
  if (secret === '') throw new CliError('the client secret is empty', 2);
  return secret;
}

const mappingText = (i: IdentityProviderView) => [
  ...Object.entries(i.group_roles).map(([g, r]) => `${g} → role ${r}`),
  ...Object.entries(i.group_teams).map(([g, t]) => `${g} → team ${t.name ?? `${t.id} (deleted)`}`),
];

/** POST /v1/identity-providers/{ref}/check. */
interface ProviderCheck { ok: boolean; issuer: string | null; authorization_endpoint: string | null; token_endpoint: string | null; pkce_s256: boolean | null; iss_parameter: boolean | null; error: string | null }

export function registerIdpCommands(program: Command, io: IdpIo): void {
  const idp = program.command('idp')
    .description('identity providers people sign in through (OpenID Connect: Okta, Entra ID, Google, Keycloak, …)')
    .addHelpText('after', examples(
      'custos idp add okta --issuer https://example.okta.com --client-id 0oa1b2c3 --client-secret-file okta.secret --groups-claim groups --group-role custos-admins=admin',
      'custos idp list',
    ));

  idp.command('add <name>').description('add an identity provider people sign in through (admin)')
    .requiredOption('--issuer <url>', 'the provider\'s OIDC issuer (https; plain http only to 127.0.0.1, [::1] or localhost, for development)')
    .requiredOption('--client-id <id>', 'Custos\'s client_id at the provider')
    .addOption(new Option('--client-auth <method>', 'how Custos authenticates at the provider (default client_secret_basic; private_key_jwt: Custos makes a key pair and prints where its public key is)')
      .choices(CLIENT_AUTH_METHODS))
    .option('--client-secret-file <file>', 'a file holding the client secret (client_secret_basic / client_secret_post)')
    .option('--client-secret-stdin', 'read the client secret from standard input (for scripts; one trailing newline is dropped)')
    .option('--display-name <text>', 'shown on the sign-in page ("Sign in with …")')
    .addOption(new Option('--scopes <list>', `scopes to request, commas or spaces, including openid (default ${DEFAULT_SCOPES.join(',')})`).argParser(splitList))
    .addOption(new Option('--subject-claim <claim>', 'which claim names the person: sub (default, stable) or email (verified only)').choices(SUBJECT_CLAIMS))
    .option('--groups-claim <claim>', 'the claim carrying the person\'s groups (e.g. groups); needed for --group-role and --group-team')
    .option('--group-role <group=role>', `people in the group get the operator role (${OPERATOR_ROLES.join(', ')}); repeatable, the highest wins`, collectMapping('--group-role', checkRole))
    .option('--group-team <group=team>', 'people in the group are members of the team (name or id) while in it; repeatable', collectMapping('--group-team'))
    .addOption(new Option('--new-principal-status <status>', 'status of a person\'s principal created at first sign-in (default proposed: an admin activates it)').choices(NEW_PRINCIPAL_STATUSES))
    .option('--reason <text>', 'why (recorded in the audit log)')
    .addHelpText('after', examples(
      'custos idp add okta --issuer https://example.okta.com --client-id 0oa1b2c3 --client-secret-file okta.secret --groups-claim groups --group-role custos-admins=admin --group-role sec-team=security --group-team ml-eng=ml-platform',
      'printf %s "$KEYCLOAK_SECRET" | custos idp add keycloak --issuer https://sso.example.com/realms/corp --client-id custos --client-secret-stdin --client-auth client_secret_post',
      'custos idp add entra --issuer https://login.microsoftonline.com/<tenant>/v2.0 --client-id <app-id> --client-auth private_key_jwt',
    ))
    .action(withClient(io, async (client, g, name: string, o) => {
      const secret = await clientSecret(io, o);
      const body = defined({
        name, display_name: o.displayName, issuer: o.issuer, client_id: o.clientId, client_auth: o.clientAuth, client_secret: secret,
        scopes: o.scopes, subject_claim: o.subjectClaim, groups_claim: o.groupsClaim, group_roles: o.groupRole, group_teams: o.groupTeam,
        new_principal_status: o.newPrincipalStatus, reason: o.reason,
      });
      const i = await client.request<IdentityProviderView>('POST', '/v1/identity-providers', body);
      if (g.json) return printJson(io, i);
      io.stdout.write(`added identity provider '${i.name}' (${i.issuer}, ${i.client_auth})\n`);
      if (i.jwks_uri) io.stdout.write(`register Custos's public key at the provider: ${i.jwks_uri} (key id ${String(i.public_jwk?.kid ?? '')})\n`);
      io.stdout.write(`the redirect URI to register at the provider: ${client.server.replace(/\/+$/, '')}/oauth/callback (behind a proxy: <public-url>/oauth/callback)\n`);
      io.stdout.write('with the default --operator-token-signin auto, the sign-in page no longer offers pasting an operator token; people sign in through the providers\n');
      const check = await client.request<ProviderCheck>('POST', `/v1/identity-providers/${encodeURIComponent(i.name)}/check`);
      io.stdout.write(check.ok ? `checked: the provider's discovery document is readable (authorization endpoint ${check.authorization_endpoint})\n`
        : `warning: the provider cannot be used yet: ${check.error} (fix it, then: custos idp check ${i.name})\n`);
    }));

  idp.command('check <name>').description('read the provider\'s OpenID discovery document now: can people sign in through it? (admin)')
    .addHelpText('after', examples('custos idp check okta'))
    .action(withClient(io, async (client, g, name: string) => {
      const check = await client.request<ProviderCheck>('POST', `/v1/identity-providers/${encodeURIComponent(name)}/check`);
      if (g.json) return printJson(io, check);
      if (!check.ok) throw new CliError(`identity provider '${name}' cannot be used: ${check.error}`, 1);
      printRecord(io, { ok: true, issuer: check.issuer, authorization_endpoint: check.authorization_endpoint, token_endpoint: check.token_endpoint, pkce_s256: check.pkce_s256, iss_parameter: check.iss_parameter });
    }));

  pageOptions(idp.command('list').description('list identity providers (never their secrets)')
    .addHelpText('after', examples('custos idp list', 'custos idp list --json')))
    .action(withClient(io, async (client, g, o) => {
      const params = new URLSearchParams(defined({ limit: o.limit, cursor: o.cursor }) as Record<string, string>);
      const page = await fetchPages<IdentityProviderView>(client, '/v1/identity-providers', params, Boolean(o.all));
      if (g.json) return printJson(io, page);
      printTable(io, ['NAME', 'DISPLAY NAME', 'ISSUER', 'CLIENT', 'AUTH', 'GROUP MAPPINGS'], page.items.map((i) => [
        i.name, i.display_name, i.issuer, i.client_id, i.client_auth, mappingText(i).join(', '),
      ]));
      if (page.next_cursor) io.stdout.write(`more: --cursor ${page.next_cursor}\n`);
    }));

  idp.command('show <name>').description('show one identity provider and its group mappings')
    .addHelpText('after', examples('custos idp show okta'))
    .action(withClient(io, async (client, g, name: string) => {
      const i = await client.request<IdentityProviderView>('GET', `/v1/identity-providers/${encodeURIComponent(name)}`);
      if (g.json) return printJson(io, i);
      const { group_roles: _roles, group_teams: _teams, public_jwk: publicJwk, jwks_uri: jwksUri, ...rest } = i;
      printRecord(io, { ...rest, scopes: i.scopes.join(' '), ...(jwksUri ? { jwks_uri: jwksUri, key_id: publicJwk?.kid } : {}) });
      for (const m of mappingText(i)) io.stdout.write(`mapping  ${m}\n`);
    }));

  idp.command('remove <name>').description('remove an identity provider (nobody can sign in through it any more)')
    .option('--reason <text>', 'why (recorded in the audit log)')
    .addHelpText('after', examples('custos idp remove okta --reason "moved to Entra ID"'))
    .action(withClient(io, async (client, g, name: string, o) => {
      const query = o.reason ? `?${new URLSearchParams({ reason: o.reason }).toString()}` : '';
      await client.request('DELETE', `/v1/identity-providers/${encodeURIComponent(name)}${query}`);
      if (g.json) printJson(io, { removed: name }); else io.stdout.write(`removed identity provider '${name}'\n`);
    }));
}
