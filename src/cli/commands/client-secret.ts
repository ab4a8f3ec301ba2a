import { Command, Option } from 'commander';
import {
  DEFAULT_SECRET_OVERLAP_SECONDS, DEFAULT_SECRET_TTL_SECONDS, MAX_SECRET_OVERLAP_SECONDS, MAX_SECRET_TTL_SECONDS, MIN_SECRET_TTL_SECONDS,
  type ClientSecretView,
} from '../../credentials/client-secrets.schemas.js';
import { CREDENTIAL_ID_PATTERN } from '../../platform/credential-format.js';
import { CliError } from '../client.js';
import { defined, examples, fetchPages, integerIn, pageOptions, withClient } from '../common.js';
import { printJson, printTable, type CliIo } from '../output.js';

// `custos client-secret`: secrets for OAuth clients that authenticate with client_secret_basic or
// client_secret_post. A secret is printed once, on stdout alone (the note about it goes to stderr), so it can be
// piped straight into a secret store.

function checkId(id: string): void {
  if (!CREDENTIAL_ID_PATTERN.test(id)) throw new CliError(`'${id}' is not a client secret id (16 characters a-z, 2-7; see custos client-secret list)`, 2);
}

export function registerClientSecretCommands(program: Command, io: CliIo): void {
  const secret = program.command('client-secret').description('OAuth client secrets (client_secret_basic / client_secret_post)');
  const ttlOption = (what: string) => new Option('--ttl <seconds>', `${what}, ${MIN_SECRET_TTL_SECONDS} to ${MAX_SECRET_TTL_SECONDS} (365 days)`)
    .argParser(integerIn('--ttl', MIN_SECRET_TTL_SECONDS, MAX_SECRET_TTL_SECONDS));

  secret.command('create <principal>').description('create a client secret for a non-human principal (printed once)')
    .addOption(ttlOption(`lifetime in seconds; default ${DEFAULT_SECRET_TTL_SECONDS} (90 days)`))
    .option('--description <text>', 'what the secret is for (shown in lists and recorded in the audit log)')
    .addHelpText('after', examples('custos client-secret create legacy-bot --ttl 2592000 > legacy-bot.secret'))
    .action(withClient(io, async (client, g, principal: string, o) => {
      const s = await client.request<ClientSecretView & { secret: string }>('POST', '/v1/client-secrets', defined({ principal, ttl_seconds: o.ttl as number | undefined, description: o.description }));
      if (g.json) return printJson(io, s);
      io.stdout.write(`${s.secret}\n`);
      io.stderr.write(`client secret ${s.id} for '${s.principal.name}', expires ${s.expires_at}. It is shown only this once.\n`);
    }));

  pageOptions(secret.command('list').description('list client secrets (never the secrets themselves)')
    .option('--principal <name>', 'only the secrets of this principal (id or name; owner-role operators must give one)')
    .option('--include-revoked', 'include revoked secrets')
    .addHelpText('after', examples('custos client-secret list --principal legacy-bot --include-revoked')))
    .action(withClient(io, async (client, g, o) => {
      const params = new URLSearchParams(defined({ principal: o.principal, include_revoked: o.includeRevoked ? 'true' : undefined, limit: o.limit, cursor: o.cursor }) as Record<string, string>);
      const page = await fetchPages<ClientSecretView>(client, '/v1/client-secrets', params, Boolean(o.all));
      if (g.json) return printJson(io, page);
      printTable(io, ['ID', 'PRINCIPAL', 'EXPIRES', 'REVOKED', 'REPLACED BY', 'LAST USED'],
        page.items.map((s) => [s.id, s.principal.name, s.expires_at, s.revoked_at ?? '', s.replaced_by ?? '', s.last_used_at ?? '']));
    }));

  secret.command('rotate <id>').description('replace a client secret: prints the new one; the old one keeps working for the overlap')
    .addOption(new Option('--overlap <seconds>', `how long the old secret keeps working, 0 to ${MAX_SECRET_OVERLAP_SECONDS} (7 days); default ${DEFAULT_SECRET_OVERLAP_SECONDS} (1 hour)`)
      .argParser(integerIn('--overlap', 0, MAX_SECRET_OVERLAP_SECONDS)))
    .addOption(ttlOption('lifetime of the new secret in seconds; default the old one\'s lifetime'))
    .addHelpText('after', examples('custos client-secret rotate abcdefghijklmnop --overlap 600 > legacy-bot.secret'))
    .action(withClient(io, async (client, g, id: string, o) => {
      checkId(id);
      const r = await client.request<ClientSecretView & { secret: string; replaces: ClientSecretView }>('POST', `/v1/client-secrets/${encodeURIComponent(id)}/rotate`,
        defined({ overlap_seconds: o.overlap as number | undefined, ttl_seconds: o.ttl as number | undefined }));
      if (g.json) return printJson(io, r);
      io.stdout.write(`${r.secret}\n`);
      io.stderr.write(`client secret ${r.id} replaces ${r.replaces.id} (accepted until ${r.replaces.expires_at}); expires ${r.expires_at}. It is shown only this once.\n`);
    }));

  secret.command('revoke <id>').description('revoke a client secret at once (tokens obtained with it stop working)')
    .option('--reason <text>', 'why (recorded in the audit log)')
    .addHelpText('after', examples('custos client-secret revoke abcdefghijklmnop --reason "pasted in a ticket"'))
    .action(withClient(io, async (client, g, id: string, o) => {
      checkId(id);
      const s = await client.request<ClientSecretView>('POST', `/v1/client-secrets/${encodeURIComponent(id)}/revoke`, defined({ reason: o.reason }));
      if (g.json) printJson(io, s);
      else io.stdout.write(`revoked ${s.id} (${s.principal.name})\n`);
    }));
}
