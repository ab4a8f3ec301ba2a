import { Command, Option } from 'commander';
import {
  API_KEY_TTL_SHAPE_MAX_SECONDS, DEFAULT_API_KEY_TTL_SECONDS, DEFAULT_OVERLAP_SECONDS, MAX_OVERLAP_SECONDS, MIN_API_KEY_TTL_SECONDS,
  type ApiKeyView,
} from '../../credentials/api-keys.schemas.js';
import { CREDENTIAL_ID_PATTERN } from '../../platform/credential-format.js';
import { CliError } from '../client.js';
import { defined, examples, fetchPages, integerIn, pageOptions, splitList, withClient } from '../common.js';
import { printJson, printTable, type CliIo } from '../output.js';

// `custos apikey create|list|rotate|revoke`: API keys (custos_ak_…) for clients that can only send a bearer
// string. The key is printed once, alone on stdout (so it can be piped into a secret store); what it is bound
// to goes to stderr.


function assertKeyId(id: string): void {
  if (!CREDENTIAL_ID_PATTERN.test(id)) throw new CliError(`'${id}' is not an API key id (16 characters a-z, 2-7; see custos apikey list)`, 2);
}

function binding(k: ApiKeyView): string {
  return `scope ${k.scope.join(' ') || '(none)'}, purpose ${k.purpose ?? '(none)'}, audience ${k.audience.join(' ')}`;
}

export function registerApiKeyCommands(program: Command, io: CliIo): void {
  const apikey = program.command('apikey').description('API keys (custos_ak_…) for clients that can only send a bearer string');

  apikey.command('create <principal>').description('create an API key bound to a principal, scopes, a purpose and audiences (printed once)')
    .option('--scope <scopes>', 'scopes, comma- or space-separated, a subset of the principal\'s approved scopes (default: all of them)', splitList)
    .option('--purpose <purpose>', 'one of the principal\'s allowed purposes (may be omitted when it has exactly one)')
    .option('--audience <indicators>', 'comma-separated resource indicators (registered resources, the server\'s own URL, or the gateway\'s URL for model calls; default: the management API)', splitList)
    .addOption(new Option('--ttl <seconds>', `lifetime in seconds, at least ${MIN_API_KEY_TTL_SECONDS}; default ${DEFAULT_API_KEY_TTL_SECONDS} (24 hours); at most 90/30/7/1 days by the principal's risk tier`)
      .argParser(integerIn('--ttl', MIN_API_KEY_TTL_SECONDS, API_KEY_TTL_SHAPE_MAX_SECONDS)))
    .option('--description <text>', 'what the key is for (shown in apikey list and the audit log)')
    .addHelpText('after', examples(
      'custos apikey create support-bot --purpose customer-support --audience http://127.0.0.1:8081 --ttl 3600',
      'custos apikey create ci-runner --audience https://gateway.example.com --description "nightly evals" > ci.key',
    ))
    .action(withClient(io, async (client, g, principal: string, o) => {
      const k = await client.request<ApiKeyView & { key: string }>('POST', '/v1/api-keys', defined({
        principal, scope: o.scope as string[] | undefined, purpose: o.purpose, audience: o.audience as string[] | undefined,
        ttl_seconds: o.ttl as number | undefined, description: o.description,
      }));
      if (g.json) return printJson(io, k);
      io.stdout.write(`${k.key}\n`);
      io.stderr.write(`API key ${k.id} for '${k.principal.name}' (${binding(k)}), expires ${k.expires_at}. It is shown only this once.\n`);
    }));

  pageOptions(apikey.command('list').description('list API keys (never their secrets)')
    .option('--principal <name>', 'only the keys of this principal (id or name); owner-role operators must name one they own')
    .option('--include-revoked', 'include revoked keys')
    .addHelpText('after', examples('custos apikey list --principal support-bot --include-revoked')))
    .action(withClient(io, async (client, g, o) => {
      const params = new URLSearchParams(defined({ principal: o.principal, include_revoked: o.includeRevoked ? 'true' : undefined, limit: o.limit, cursor: o.cursor }) as Record<string, string>);
      const page = await fetchPages<ApiKeyView>(client, '/v1/api-keys', params, Boolean(o.all));
      if (g.json) return printJson(io, page);
      printTable(io, ['ID', 'PRINCIPAL', 'SCOPE', 'PURPOSE', 'EXPIRES', 'REVOKED', 'LAST USED', 'REPLACED BY'], page.items.map((k) => [
        k.id, k.principal.name, k.scope.join(' '), k.purpose ?? '', k.expires_at, k.revoked_at ?? '', k.last_used_at ?? '', k.replaced_by ?? '',
      ]));
    }));

  apikey.command('rotate <id>').description('replace an API key with a new one bound the same way; the old one keeps working for the overlap window (printed once)')
    .addOption(new Option('--overlap <seconds>', `how long the old key keeps working, 0 to ${MAX_OVERLAP_SECONDS} (7 days); default ${DEFAULT_OVERLAP_SECONDS} (1 hour)`)
      .argParser(integerIn('--overlap', 0, MAX_OVERLAP_SECONDS)))
    .addHelpText('after', examples('custos apikey rotate abcdefghijklmnop --overlap 600 > new.key'))
    .action(withClient(io, async (client, g, id: string, o) => {
      assertKeyId(id);
      const k = await client.request<ApiKeyView & { key: string; replaces: ApiKeyView }>('POST', `/v1/api-keys/${encodeURIComponent(id)}/rotate`, defined({ overlap_seconds: o.overlap as number | undefined }));
      if (g.json) return printJson(io, k);
      io.stdout.write(`${k.key}\n`);
      io.stderr.write(`API key ${k.id} replaces ${k.replaces.id} (valid until ${k.replaces.expires_at}); the new key expires ${k.expires_at}. It is shown only this once.\n`);
    }));

  apikey.command('revoke <id>').description('revoke an API key at once')
    .option('--reason <text>', 'why (recorded in the audit log)')
    .addHelpText('after', examples('custos apikey revoke abcdefghijklmnop --reason "pasted in a ticket"'))
    .action(withClient(io, async (client, g, id: string, o) => {
      assertKeyId(id);
      const k = await client.request<ApiKeyView>('POST', `/v1/api-keys/${encodeURIComponent(id)}/revoke`, defined({ reason: o.reason }));
      if (g.json) printJson(io, k); else io.stdout.write(`revoked ${k.id}\n`);
    }));
}
