import fs from 'node:fs';
import { Command, Option } from 'commander';
import type { McpServerView } from '../../gateway/mcp/mcp-servers.schemas.js';
import { credentialProblem, HEADER_NAME_PATTERN, serverNameProblem, TIMEOUT_MS, type UpstreamCredential } from '../../gateway/mcp/mcp.js';
import { CliError } from '../client.js';
import { defined, examples, fetchPages, integerIn, pageOptions, withClient } from '../common.js';
import type { CliIo } from '../output.js';
import { printJson, printRecord, printTable } from '../output.js';

// `custos mcp-server`: the MCP servers the gateway serves at /mcp/<name> (/v1/mcp-servers), whose tools become tool
// resources. Admins change them; admins, security and auditors read them. The upstream credential (a bearer token,
// or one header's value) is read from a file (or stdin) or an environment variable, never from the command line
// (shell history, process lists), checked before any request, and never printed: the server answers only its kind.
// Docs: docs/mcp-gateway.md.

interface CredentialOptions { tokenFile?: string; tokenEnv?: string; headerName?: string; headerFile?: string; headerEnv?: string }

function readSecret(io: CliIo, file: string | undefined, env: string | undefined, flag: string): { value: string; from: string } | undefined {
  if (file !== undefined) {
    try {
      return { value: fs.readFileSync(file === '-' ? 0 : file, 'utf8').replace(/\r?\n$/, ''), from: `--${flag}-file '${file}'` };
    } catch (error) {
      throw new CliError(`cannot read --${flag}-file '${file}': ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 2);
    }
  }
  if (env !== undefined) {
    const value = io.env[env];
    if (value === undefined || value === '') throw new CliError(`--${flag}-env ${env}: the environment variable is not set`, 2);
    return { value, from: `--${flag}-env ${env}` };
  }
  return undefined;
}

/** The upstream credential from the options, checked (the problem text never contains it); undefined when none given. */
export function readCredential(io: CliIo, o: CredentialOptions): UpstreamCredential | undefined {
  const token = readSecret(io, o.tokenFile, o.tokenEnv, 'token');
  const header = readSecret(io, o.headerFile, o.headerEnv, 'header');
  if (token && (header || o.headerName)) throw new CliError('give a bearer token (--token-file/--token-env) or a header (--header-name with --header-file/--header-env), not both', 2);
  if (header && !o.headerName) throw new CliError('--header-file/--header-env need --header-name', 2);
  if (o.headerName && !header) throw new CliError('--header-name needs --header-file or --header-env for the value', 2);
  let credential: UpstreamCredential | undefined;
  let from = '';
  if (token) { credential = { type: 'bearer', token: token.value }; from = token.from; }
  if (header) {
    if (!HEADER_NAME_PATTERN.test(o.headerName!)) throw new CliError('--header-name must be an HTTP header name', 2);
    credential = { type: 'header', name: o.headerName!, value: header.value };
    from = header.from;
  }
  if (!credential) return undefined;
  const problem = credentialProblem(credential);
  if (problem) throw new CliError(`the credential given with ${from}: ${problem.replace(/^credential\./, '')}`, 2);
  return credential;
}

const reasonOption = ['--reason <text>', 'why (recorded in the audit log)'] as const;
const credentialOptions = (cmd: Command) => cmd
  .addOption(new Option('--token-file <file>', 'the upstream\'s bearer token from this file (\'-\': stdin); never printed').conflicts('tokenEnv'))
  .addOption(new Option('--token-env <name>', 'the upstream\'s bearer token from this environment variable'))
  .option('--header-name <name>', 'send the credential in this header instead (e.g. X-API-Key)')
  .addOption(new Option('--header-file <file>', 'the header\'s value from this file (\'-\': stdin); never printed').conflicts('headerEnv'))
  .addOption(new Option('--header-env <name>', 'the header\'s value from this environment variable'));
const timeoutOption = () => new Option('--timeout-ms <ms>', `how long the MCP server may take to answer (${TIMEOUT_MS.min}-${TIMEOUT_MS.max}; default ${TIMEOUT_MS.default})`)
  .argParser(integerIn('--timeout-ms', TIMEOUT_MS.min, TIMEOUT_MS.max));

function credentialText(s: McpServerView): string {
  return s.credential === null ? 'none' : s.credential.type === 'bearer' ? 'bearer (stored)' : `header ${s.credential.header_name} (stored)`;
}

function summary(s: McpServerView): string {
  const served = s.tools.filter((t) => t.present).length;
  return `${s.endpoint} → ${s.upstream_url}, credential ${credentialText(s)}, owner ${s.owner.name}, ${served} tool${served === 1 ? '' : 's'}, version ${s.version}`;
}

export function registerMcpServerCommands(program: Command, io: CliIo): void {
  const cmd = program.command('mcp-server').description('MCP servers the gateway serves at /mcp/<name>; their tools become tool resources (admins change; admin/security/auditor read)')
    .addHelpText('after', examples(
      'custos mcp-server add files --url https://files.internal.example/mcp --token-env FILES_MCP_TOKEN --owner alice',
      'custos mcp-server refresh files',
      'custos mcp-server update files --token-file new-token.txt --reason "rotation"',
    ));

  credentialOptions(cmd.command('add <name>').description('register an MCP server: its tools become tool resources, denied until a policy or grant allows them (admins)')
    .requiredOption('--url <url>', 'the MCP server\'s Streamable HTTP endpoint: https, or plain http only to a loopback or private address')
    .requiredOption('--owner <person>', 'the accountable person (a human principal): owns the server\'s and its tools\' resources'))
    .option('--description <text>', 'what the server is for')
    .addOption(timeoutOption())
    .option(...reasonOption)
    .addHelpText('after', examples(
      'custos mcp-server add files --url https://files.internal.example/mcp --token-env FILES_MCP_TOKEN --owner alice',
      'custos mcp-server add crm --url http://10.0.4.7:3000/mcp --header-name X-API-Key --header-file crm.key --owner bob --timeout-ms 10000',
    ))
    .action(withClient(io, async (client, g, name: string, o) => {
      const problem = serverNameProblem(name);
      if (problem) throw new CliError(problem, 2);
      const credential = readCredential(io, o);
      const s = await client.request<McpServerView>('POST', '/v1/mcp-servers', defined({
        name, upstream_url: o.url, credential, owner: o.owner, description: o.description, timeout_ms: o.timeoutMs, reason: o.reason,
      }));
      if (g.json) return printJson(io, s);
      io.stdout.write(`registered MCP server '${s.name}': ${summary(s)}\n`);
      if (s.tools.length > 0) io.stdout.write(`tools (denied until a policy or grant allows them): ${s.tools.map((t) => t.resource.name).join(', ')}\n`);
    }));

  pageOptions(cmd.command('list').description('list MCP servers (never their credentials)')
    .addHelpText('after', examples('custos mcp-server list', 'custos --json mcp-server list --all')))
    .action(withClient(io, async (client, g, o) => {
      const params = new URLSearchParams(defined({ limit: o.limit, cursor: o.cursor }) as Record<string, string>);
      const page = await fetchPages<McpServerView>(client, '/v1/mcp-servers', params, Boolean(o.all));
      if (g.json) return printJson(io, page);
      printTable(io, ['NAME', 'ENDPOINT', 'UPSTREAM', 'CREDENTIAL', 'OWNER', 'TOOLS'],
        page.items.map((s) => [s.name, s.endpoint, s.upstream_url, credentialText(s), s.owner.name, s.tools.filter((t) => t.present).length]));
      if (page.next_cursor) io.stdout.write(`more: --cursor ${page.next_cursor}\n`);
    }));

  cmd.command('show <name>').description('show an MCP server and its tools (never its credential)')
    .addHelpText('after', examples('custos mcp-server show files'))
    .action(withClient(io, async (client, g, name: string) => {
      const s = await client.request<McpServerView>('GET', `/v1/mcp-servers/${encodeURIComponent(name)}`);
      if (g.json) return printJson(io, s);
      printRecord(io, {
        id: s.id, name: s.name, endpoint: s.endpoint, upstream_url: s.upstream_url, credential: credentialText(s), owner: s.owner.name,
        description: s.description, timeout_ms: s.timeout_ms, resource: s.resource.name, protocol_version: s.protocol_version,
        tools_synced_at: s.tools_synced_at, version: s.version, created_at: s.created_at, updated_at: s.updated_at,
      });
      if (s.tools.length > 0) {
        io.stdout.write('\n');
        printTable(io, ['TOOL', 'RESOURCE', 'LISTED', 'LAST SEEN'], s.tools.map((t) => [t.name, t.resource.name, t.present ? 'yes' : 'no (not served)', t.last_seen_at]));
      }
    }));

  credentialOptions(cmd.command('update <name>').description('change an MCP server, its owner or its credential: a new URL or credential must answer first (admins)')
    .option('--url <url>', 'a new Streamable HTTP endpoint (same rule as add)')
    .option('--remove-credential', 'forget the stored credential')
    .option('--owner <person>', 'a new owner: the server\'s and its tools\' resources move to them')
    .addOption(new Option('--description <text>', 'a new description').conflicts('clearDescription'))
    .option('--clear-description', 'remove the description'))
    .addOption(timeoutOption())
    .addOption(new Option('--expected-version <n>', 'refuse if the registration changed since this version').argParser(integerIn('--expected-version', 1, Number.MAX_SAFE_INTEGER)))
    .option(...reasonOption)
    .addHelpText('after', examples('custos mcp-server update files --token-env NEW_FILES_TOKEN --reason "rotation"', 'custos mcp-server update files --owner carol'))
    .action(withClient(io, async (client, g, name: string, o) => {
      const credential = readCredential(io, o);
      if (credential && o.removeCredential) throw new CliError('give a new credential or --remove-credential, not both', 2);
      const body = defined({
        upstream_url: o.url, credential, remove_credential: o.removeCredential ? true : undefined, owner: o.owner,
        description: o.clearDescription ? null : o.description, timeout_ms: o.timeoutMs, expected_version: o.expectedVersion, reason: o.reason,
      });
      if (Object.keys(body).filter((k) => k !== 'reason' && k !== 'expected_version').length === 0) {
        throw new CliError('nothing to change: give --url, a credential option, --remove-credential, --owner, --description, --clear-description or --timeout-ms', 2);
      }
      const s = await client.request<McpServerView>('PATCH', `/v1/mcp-servers/${encodeURIComponent(name)}`, body);
      if (g.json) return printJson(io, s);
      io.stdout.write(`updated MCP server '${s.name}'${credential ? ' (new credential stored)' : o.removeCredential ? ' (credential removed)' : ''}: ${summary(s)}\n`);
    }));

  cmd.command('refresh <name>').description('read the MCP server\'s tool list now: new tools become resources, absent ones stop being served (admins)')
    .option(...reasonOption)
    .addHelpText('after', examples('custos mcp-server refresh files'))
    .action(withClient(io, async (client, g, name: string, o) => {
      const r = await client.request<{ server: McpServerView; added: string[]; changed: string[]; removed: string[]; refused: Array<{ tool: string; problem: string }> }>(
        'POST', `/v1/mcp-servers/${encodeURIComponent(name)}/refresh`, defined({ reason: o.reason }));
      if (g.json) return printJson(io, r);
      const list = (xs: string[]) => (xs.length ? xs.join(', ') : '-');
      io.stdout.write(`refreshed MCP server '${r.server.name}': added ${list(r.added)}; changed ${list(r.changed)}; removed ${list(r.removed)}\n`);
      for (const x of r.refused) io.stdout.write(`not served: ${x.tool}: ${x.problem}\n`);
    }));

  cmd.command('remove <name>').description('remove an MCP server; its tool resources go too unless grants or requests still name them (admins)')
    .option(...reasonOption)
    .addHelpText('after', examples('custos mcp-server remove files --reason "retired"'))
    .action(withClient(io, async (client, g, name: string, o) => {
      const q = o.reason ? `?reason=${encodeURIComponent(o.reason)}` : '';
      await client.request('DELETE', `/v1/mcp-servers/${encodeURIComponent(name)}${q}`);
      if (g.json) return printJson(io, { removed: name });
      io.stdout.write(`removed MCP server '${name}'\n`);
    }));
}
