import { Command, InvalidArgumentError, Option } from 'commander';
import { CliError } from '../client.js';
import { defined, examples, fetchPages, pageOptions, withClient } from '../common.js';
import { printJson, printTable, type CliIo } from '../output.js';

// `custos credential list|revoke`: the credential inventory (what a principal holds: live access tokens, API
// keys, client secrets, client keys; expiring soon, never used, longest-lived) and revocation in cascade by
// token, delegation family, credential or principal. A client of /v1/credentials; never prints a secret.

const KINDS = ['access_token', 'api_key', 'client_secret', 'client_key'] as const;

/** What the API returns for one credential (inventory.schemas.ts InventoryItem). */
interface CredentialView {
  id: string;
  kind: string;
  principal: { id: string; name: string };
  created_at: string;
  expires_at: string | null;
  last_used_at: string | null;
  revoked_at: string | null;
  details: Record<string, unknown>;
}

interface RevocationView {
  target: { kind: string; id: string };
  revoked_at: string;
  already_revoked: boolean;
  not_before: string | null;
  cascade: string[];
}

/** `90`, `90s`, `15m`, `1h`, `7d`: checked here so a typo is a usage error (exit 2) before any request. */
export function durationArg(value: string): string {
  if (!/^\d{1,9}[smhd]?$/.test(value) || /^0+[smhd]?$/.test(value)) {
    throw new InvalidArgumentError('a duration such as 3600, 90s, 15m, 1h or 7d');
  }
  return value;
}

/** Columns of the table: scope or purpose for tokens, whatever the kind says for the others. */
function summary(c: CredentialView): string {
  const d = c.details;
  if (c.kind === 'access_token') {
    const chain = Array.isArray(d.act_chain) && d.act_chain.length > 0 ? ` via ${d.act_chain.length} actor(s)` : '';
    return `${Array.isArray(d.scope) ? d.scope.join(' ') : ''}${d.purpose ? ` for ${String(d.purpose)}` : ''}${chain}`;
  }
  return typeof d.description === 'string' ? d.description : '';
}

export function registerCredentialCommands(program: Command, io: CliIo): void {
  const credential = program.command('credential').description('what principals hold (tokens, API keys, client secrets and keys) and revocation in cascade');

  pageOptions(credential.command('list').description('list live credentials: whose, which kind, expiring soon, never used, longest-lived')
    .option('--principal <name>', 'only what this principal holds (id or name); owner-role operators must name one they own')
    .addOption(new Option('--kind <kind>', 'only this kind of credential').choices(KINDS))
    .addOption(new Option('--expiring-within <duration>', 'only credentials expiring within this long (e.g. 1h, 7d)').argParser(durationArg))
    .option('--never-used', 'only credentials never used (access tokens are not tracked and not listed)')
    .addOption(new Option('--sort <order>', 'expires_at: soonest first; lifetime: longest-lived first (default: creation order)').choices(['expires_at', 'lifetime']))
    .addHelpText('after', examples(
      'custos credential list --principal triage-agent',
      'custos credential list --expiring-within 1h --sort expires_at',
      'custos credential list --kind api_key --never-used --json',
    )))
    .action(withClient(io, async (client, g, o) => {
      if (o.neverUsed && o.expiringWithin) throw new CliError('give --never-used or --expiring-within, not both', 2);
      const params = new URLSearchParams(defined({
        principal: o.principal, kind: o.kind, state: o.neverUsed ? 'never_used' : o.expiringWithin ? 'expiring' : undefined,
        expiring_within: o.expiringWithin, sort: o.sort, limit: o.limit === undefined ? undefined : String(o.limit), cursor: o.cursor,
      }) as Record<string, string>);
      const page = await fetchPages<CredentialView>(client, '/v1/credentials', params, Boolean(o.all));
      if (g.json) return printJson(io, page);
      printTable(io, ['ID', 'KIND', 'PRINCIPAL', 'CREATED', 'EXPIRES', 'LAST USED', 'SCOPE / NOTE'], page.items.map((c) => [
        c.id, c.kind, c.principal.name, c.created_at, c.expires_at ?? 'never', c.last_used_at ?? (c.kind === 'access_token' ? '' : 'never'), summary(c),
      ]));
      if (page.next_cursor) io.stderr.write(`more: --cursor ${page.next_cursor} (or --all)\n`);
    }));

  credential.command('revoke').description('revoke at once: a token and every token derived from it, a delegation family, a credential, or everything a principal holds')
    .option('--jti <jti>', 'an access token (its jti): it and every token derived from it')
    .option('--family <jti>', 'a delegation family (the jti of its root): every token in it')
    .option('--credential <id>', 'an API key, client secret or client key: it and every token obtained with it')
    .option('--principal <name>', 'a principal (id or name): everything it holds and every token it takes part in')
    .option('--reason <text>', 'why (recorded in the audit log)')
    .addHelpText('after', examples(
      'custos credential revoke --jti 0195f3c2-7a41-7c3e-9d2a-3b1f0e6a9c11 --reason "agent compromised"',
      'custos credential revoke --principal triage-agent --reason "incident 42"',
    ))
    .action(withClient(io, async (client, g, o) => {
      const targets = defined({ jti: o.jti, family: o.family, credential_id: o.credential, principal: o.principal });
      if (Object.keys(targets).length !== 1) throw new CliError('give exactly one of --jti, --family, --credential or --principal', 2);
      const r = await client.request<RevocationView>('POST', '/v1/credentials/revoke', { ...targets, ...defined({ reason: o.reason }) });
      if (g.json) return printJson(io, r);
      const what = `${r.target.kind} ${r.target.id}`;
      if (r.already_revoked) io.stdout.write(`${what} was already revoked at ${r.revoked_at}; nothing changed\n`);
      else io.stdout.write(`revoked ${what}; access tokens revoked with it: ${r.cascade.length}${r.not_before ? `; every token issued up to ${r.not_before} is dead` : ''}\n`);
    }));
}
