import { Command, Option } from 'commander';
import { OPERATOR_ROLES } from '../../platform/actor.js';
import type { TokenView } from '../../operators/index.js';
import { defined, fetchPages, pageOptions, withClient } from '../common.js';
import { printJson, printTable, type CliIo } from '../output.js';

export function registerTokenCommands(program: Command, io: CliIo): void {
  const token = program.command('token').description('operator API tokens for humans who run Custos');

  token.command('create <principal>').description('mint an operator token for a human principal (printed once)')
    .addOption(new Option('--role <role>').choices(OPERATOR_ROLES).makeOptionMandatory())
    .option('--ttl <seconds>', 'lifetime in seconds (default 43200 = 12 hours)')
    .option('--description <text>')
    .action(withClient(io, async (client, g, principal: string, o) => {
      const ttl = o.ttl === undefined ? undefined : Number(o.ttl);
      if (ttl !== undefined && !Number.isInteger(ttl)) throw new Error('--ttl must be a whole number of seconds');
      const t = await client.request<TokenView & { token: string }>('POST', '/v1/operator-tokens', defined({ principal, role: o.role, ttl_seconds: ttl, description: o.description }));
      if (g.json) return printJson(io, t);
      io.stdout.write(`${t.token}\n`);
      io.stderr.write(`token ${t.id} for '${t.principal.name}' as ${t.role}, expires ${t.expires_at}. It is shown only this once.\n`);
    }));

  pageOptions(token.command('list').description('list operator tokens (never their secrets)').option('--principal <name>').option('--include-revoked'))
    .action(withClient(io, async (client, g, o) => {
      const params = new URLSearchParams(defined({ principal: o.principal, include_revoked: o.includeRevoked ? 'true' : undefined, limit: o.limit, cursor: o.cursor }) as Record<string, string>);
      const page = await fetchPages<TokenView>(client, '/v1/operator-tokens', params, Boolean(o.all));
      if (g.json) return printJson(io, page);
      printTable(io, ['ID', 'PRINCIPAL', 'ROLE', 'EXPIRES', 'REVOKED', 'LAST USED'], page.items.map((t) => [t.id, t.principal.name, t.role, t.expires_at, t.revoked_at ?? '', t.last_used_at ?? '']));
    }));

  token.command('revoke <id>').description('revoke an operator token at once').option('--reason <text>')
    .action(withClient(io, async (client, g, id: string, o) => {
      const t = await client.request<TokenView>('POST', `/v1/operator-tokens/${encodeURIComponent(id)}/revoke`, defined({ reason: o.reason }));
      if (g.json) printJson(io, t); else io.stdout.write(`revoked ${t.id}\n`);
    }));

  program.command('whoami').description('show the operator the current token acts as')
    .action(withClient(io, async (client, g) => {
      const me = await client.request<Record<string, unknown>>('GET', '/v1/whoami');
      if (g.json) printJson(io, me); else io.stdout.write(`${me.principal_name} (${me.role}) via token ${me.credential_id}\n`);
    }));
}
