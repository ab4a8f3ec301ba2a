import { Command, InvalidArgumentError, Option } from 'commander';
import { CLIENT_GRANT_TYPES, CLIENT_SOURCES, DEFAULT_GRANT_TYPES, type ClientView } from '../../signin/clients/oauth-clients.schemas.js';
import { collect, defined, examples, fetchPages, pageOptions, splitList, withClient } from '../common.js';
import { printJson, printRecord, printTable, sanitizeCell, type CliIo } from '../output.js';

// `custos oauth-client register|list|show|remove`: the OAuth clients people sign in through (public clients:
// authorization code with PKCE, refresh tokens, the device grant). `custos-cli`, the CLI itself, is built in:
// it is listed and shown but cannot be changed or removed. --grant takes the RFC names, or `device_code` for
// urn:ietf:params:oauth:grant-type:device_code.

const DEVICE = 'urn:ietf:params:oauth:grant-type:device_code';
const short = (g: string) => (g === DEVICE ? 'device_code' : g);

/** Parses --grant: commas or spaces; `device_code` stands for the device grant's URN. */
export function parseGrants(value: string): string[] {
  const list = splitList(value).map((g) => (g === 'device_code' ? DEVICE : g));
  if (list.length === 0) throw new InvalidArgumentError('--grant needs at least one grant type');
  const bad = list.find((g) => !(CLIENT_GRANT_TYPES as readonly string[]).includes(g));
  if (bad !== undefined) throw new InvalidArgumentError(`--grant '${bad}' is not one of authorization_code, refresh_token, device_code`);
  return [...new Set(list)];
}

function parseScopes(value: string): string[] {
  const list = splitList(value);
  if (list.length === 0) throw new InvalidArgumentError('--scope needs at least one scope');
  return list;
}

const scopeText = (c: ClientView) => (c.scope === null ? '(any the person holds)' : c.scope.join(' '));

export function registerOAuthClientCommands(program: Command, io: CliIo): void {
  const clients = program.command('oauth-client')
    .description('OAuth clients people sign in through (public clients: authorization code + PKCE, refresh, device grant)')
    .addHelpText('after', examples(
      'custos oauth-client register "Model Console" --redirect-uri https://console.example.com/callback',
      'custos oauth-client list',
    ));

  clients.command('register <name>').description('register a public OAuth client for people (admin)')
    .option('--redirect-uri <uri>', 'an exact redirect URI (repeatable): https; http only to 127.0.0.1 or [::1] (any port) or localhost; or a private-use scheme like com.example.app:/cb', collect)
    .addOption(new Option('--grant <types>', `grant types, commas or spaces: authorization_code, refresh_token, device_code (default ${DEFAULT_GRANT_TYPES.join(',')})`).argParser(parseGrants))
    .addOption(new Option('--scope <scopes>', 'scopes the client may ask for, commas or spaces (default: any the person holds)').argParser(parseScopes))
    .option('--reason <text>', 'why (recorded in the audit log)')
    .addHelpText('after', examples(
      'custos oauth-client register "Model Console" --redirect-uri https://console.example.com/callback --scope models:read,models:invoke',
      'custos oauth-client register "Desktop App" --redirect-uri http://127.0.0.1/callback --redirect-uri com.example.desktop:/callback',
      'custos oauth-client register "Kiosk" --grant device_code,refresh_token',
    ))
    .action(withClient(io, async (client, g, name: string, o) => {
      const body = defined({ name, redirect_uris: (o.redirectUri as string[] | undefined) ?? [], grant_types: o.grant, scope: o.scope, reason: o.reason });
      const c = await client.request<ClientView>('POST', '/v1/oauth-clients', body);
      if (g.json) return printJson(io, c);
      io.stdout.write(`registered '${sanitizeCell(c.name)}': client_id ${c.client_id}\n`);
    }));

  pageOptions(clients.command('list').description('list OAuth clients: the built-in custos-cli, then registered and dynamically registered ones')
    .addOption(new Option('--source <source>', 'only clients from this source').choices([...CLIENT_SOURCES]))
    .addHelpText('after', examples('custos oauth-client list', 'custos oauth-client list --source dynamic --all --json')))
    .action(withClient(io, async (client, g, o) => {
      const params = new URLSearchParams(defined({ limit: o.limit, cursor: o.cursor, source: o.source }) as Record<string, string>);
      const page = await fetchPages<ClientView>(client, '/v1/oauth-clients', params, Boolean(o.all));
      if (g.json) return printJson(io, page);
      printTable(io, ['CLIENT ID', 'NAME', 'SOURCE', 'GRANTS', 'REDIRECT URIS', 'SCOPE'], page.items.map((c) => [
        c.client_id, c.name, c.source, c.grant_types.map(short).join(','), c.redirect_uris.join(', '), scopeText(c),
      ]));
      if (page.next_cursor) io.stdout.write(`more: --cursor ${page.next_cursor}\n`);
    }));

  clients.command('show <client_id>').description('show one OAuth client (custos-cli is the built-in one)')
    .addHelpText('after', examples('custos oauth-client show custos-cli'))
    .action(withClient(io, async (client, g, clientId: string) => {
      const c = await client.request<ClientView>('GET', `/v1/oauth-clients/${encodeURIComponent(clientId)}`);
      if (g.json) return printJson(io, c);
      const { redirect_uris: uris, ...rest } = c;
      printRecord(io, { ...rest, grant_types: c.grant_types.map(short).join(','), scope: scopeText(c) });
      for (const uri of uris) io.stdout.write(`redirect_uri  ${sanitizeCell(uri)}\n`);
    }));

  clients.command('remove <client_id>').description('remove a registered or dynamic OAuth client (admin)')
    .option('--reason <text>', 'why (recorded in the audit log)')
    .addHelpText('after', examples('custos oauth-client remove 0196c0de-0000-7000-8000-000000000000 --reason "retired"'))
    .action(withClient(io, async (client, g, clientId: string, o) => {
      const query = o.reason ? `?${new URLSearchParams({ reason: o.reason }).toString()}` : '';
      await client.request('DELETE', `/v1/oauth-clients/${encodeURIComponent(clientId)}${query}`);
      if (g.json) printJson(io, { removed: clientId }); else io.stdout.write(`removed OAuth client ${sanitizeCell(clientId)}\n`);
    }));
}
