import { Command, Option } from 'commander';
import { OPERATOR_ROLES } from '../../platform/actor.js';
import { DEFAULT_TTL_SECONDS, MAX_TTL_SECONDS, MIN_TTL_SECONDS, type TokenView } from '../../operators/index.js';
import { CREDENTIAL_ID_PATTERN } from '../../platform/credential-format.js';
import { CliError } from '../client.js';
import { defined, fetchPages, integerIn, pageOptions, withClient } from '../common.js';
import { printJson, printTable, type CliIo } from '../output.js';

export function registerTokenCommands(program: Command, io: CliIo): void {
  const token = program.command('token').description('operator API tokens for humans who run Custos');

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

  token.command('revoke <id>').description('revoke an operator token at once')
    .option('--reason <text>', 'why (recorded in the audit log)')
    .addHelpText('after', '\nExample:\n  custos token revoke abcdefghijklmnop --reason "laptop lost"\n')
    .action(withClient(io, async (client, g, id: string, o) => {
      if (!CREDENTIAL_ID_PATTERN.test(id)) throw new CliError(`'${id}' is not a token id (16 characters a-z, 2-7; see custos token list)`, 2);
      const t = await client.request<TokenView & { already_revoked?: boolean }>('POST', `/v1/operator-tokens/${encodeURIComponent(id)}/revoke`, defined({ reason: o.reason }));
      if (g.json) printJson(io, t);
      else io.stdout.write(t.already_revoked ? `token ${t.id} was already revoked at ${t.revoked_at}; nothing changed\n` : `revoked ${t.id}\n`);
    }));

  program.command('whoami').description('show the operator the current token acts as')
    .addHelpText('after', '\nExample:\n  CUSTOS_TOKEN=custos_op_... custos whoami\n')
    .action(withClient(io, async (client, g) => {
      const me = await client.request<Record<string, unknown>>('GET', '/v1/whoami');
      if (g.json) printJson(io, me); else io.stdout.write(`${me.principal_name} (${me.role}) via token ${me.credential_id}\n`);
    }));
}
