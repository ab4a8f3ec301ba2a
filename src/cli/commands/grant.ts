import { Command, InvalidArgumentError, Option } from 'commander';
import { ASSET_ACTIONS } from '../../authz/contracts.js';
import { MAX_GRANT_SECONDS, MIN_GRANT_SECONDS } from '../../authz/grants/grant-rules.js';
import { CliError } from '../client.js';
import { defined, examples, fetchPages, pageOptions, splitList, withClient } from '../common.js';
import { printJson, printRecord, printTable, type CliIo } from '../output.js';

// `custos grant`: time-bound grants (/v1/grants). A grant lets one principal do some asset actions on a resource
// and everything below it, optionally for one purpose, until it expires or is revoked; the decision point enforces
// the expiry itself. Admins create them; admins and security revoke them; admin, security and auditors read them.

interface Ref { id: string; name: string }
interface GrantView {
  id: string;
  status: 'active' | 'expired' | 'revoked';
  principal: Ref & { kind: string };
  resource: Ref & { kind: string };
  actions: string[];
  purpose: string | null;
  expires_at: string;
  reason: string;
  source: string;
  source_ref: string | null;
  granted_by: Ref | null;
  created_at: string;
  revoked_at: string | null;
  revoked_by: Ref | null;
  revoked_reason: string | null;
}

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `3600`, `90s`, `15m`, `8h`, `7d` → seconds; anything else is a usage error (exit 2) before any request. */
export function durationSeconds(value: string): number {
  const m = /^(\d{1,9})([smhd]?)$/.exec(value);
  const n = m ? Number(m[1]) * UNIT_SECONDS[m[2] || 's']! : 0;
  if (!m || n <= 0) throw new InvalidArgumentError('a duration such as 3600, 90s, 15m, 8h or 7d');
  return n;
}

/** `--for`: a duration from 60 s to 90 days (the server's bounds), checked before any request. */
export function grantDuration(value: string): number {
  const n = durationSeconds(value);
  if (n < MIN_GRANT_SECONDS || n > MAX_GRANT_SECONDS) {
    throw new InvalidArgumentError(`--for must be from ${MIN_GRANT_SECONDS} seconds to ${MAX_GRANT_SECONDS / 86_400} days (90d)`);
  }
  return n;
}

const DATE_TIME_WITH_ZONE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/** `--until`: an ISO 8601 date-time with seconds and a zone (Z or ±hh:mm), as the API takes it. */
export function grantUntil(value: string): string {
  if (!DATE_TIME_WITH_ZONE.test(value) || !Number.isFinite(Date.parse(value))) {
    throw new InvalidArgumentError('--until must be an ISO 8601 date-time with a zone, e.g. 2026-03-01T18:00:00Z or 2026-03-01T19:00:00+01:00');
  }
  return value;
}

const ASSET = new Set<string>(ASSET_ACTIONS);

/** `--action` (repeatable, or separated by commas): asset actions only, checked before any request. */
export function collectAssetActions(value: string, previous: string[] = []): string[] {
  const given = splitList(value);
  const wrong = given.filter((a) => !ASSET.has(a));
  if (given.length === 0 || wrong.length) {
    throw new InvalidArgumentError(`--action takes asset actions (${ASSET_ACTIONS.join(', ')})${wrong.length ? `; not ${wrong.map((w) => `'${w}'`).join(', ')}` : ''}`);
  }
  return [...previous, ...given];
}

const reasonRequired = ['--reason <text>', 'why (required; kept with the grant and in the audit log)'] as const;

function grantLine(g: GrantView): string {
  return `'${g.principal.name}' may ${g.actions.join(', ')} on '${g.resource.name}'${g.purpose ? ` for ${g.purpose}` : ''} until ${g.expires_at}`;
}

export function registerGrantCommands(program: Command, io: CliIo): void {
  const grant = program.command('grant').description('time-bound grants: a principal may do asset actions on a resource (and what is below it) until a time (admins create; admin/security revoke)')
    .addHelpText('after', examples(
      'custos grant create support-bot tickets --action read --purpose customer-support --for 8h --reason "INC-42 triage"',
      'custos grant list --principal support-bot --active',
      'custos grant revoke 0190a6f0-… --reason "triage done"',
    ));

  grant.command('create <principal> <resource>').description('grant a principal asset actions on a resource and its children until a time (admins)')
    .requiredOption('--action <action>', `asset action granted (${ASSET_ACTIONS.join(', ')}); repeat or separate with commas`, collectAssetActions)
    .option('--purpose <purpose>', 'only for this purpose: one the principal and the resource both allow (default: any purpose)')
    .addOption(new Option('--for <duration>', 'how long from now: 3600, 90s, 15m, 8h or 7d (60 s to 90 days)').argParser(grantDuration).conflicts('until'))
    .addOption(new Option('--until <time>', 'when it ends instead: an ISO 8601 date-time with a zone (e.g. 2026-03-01T18:00:00Z), at most 90 days from now').argParser(grantUntil))
    .requiredOption(...reasonRequired)
    .addHelpText('after', examples(
      'custos grant create support-bot tickets --action read --purpose customer-support --for 8h --reason "INC-42 triage"',
      'custos grant create trainer corpus --action read,train --until 2026-03-31T00:00:00Z --reason "Q1 fine-tune"',
    ))
    .action(withClient(io, async (client, g, principal: string, resource: string, o) => {
      if (o.for === undefined && o.until === undefined) throw new CliError('give --for <duration> or --until <time>', 2);
      const created = await client.request<GrantView>('POST', '/v1/grants', defined({
        principal, resource, actions: o.action as string[], purpose: o.purpose,
        duration_seconds: o.for as number | undefined, expires_at: o.until, reason: o.reason,
      }));
      if (g.json) printJson(io, created); else io.stdout.write(`granted: ${grantLine(created)} (${created.id})\n`);
    }));

  pageOptions(grant.command('list').description('list grants, per principal or resource')
    .option('--principal <principal>', 'only grants to this principal (id or name)')
    .option('--resource <resource>', 'only grants on this resource itself (id or name), not on its parents')
    .addOption(new Option('--active', 'only grants in force now').conflicts('ended'))
    .option('--ended', 'only grants that expired or were revoked')
    .addHelpText('after', examples('custos grant list --principal support-bot --active', 'custos grant list --resource tickets --all')))
    .action(withClient(io, async (client, g, o) => {
      const active = o.active ? 'true' : o.ended ? 'false' : undefined;
      const params = new URLSearchParams(defined({ principal: o.principal, resource: o.resource, active, limit: o.limit, cursor: o.cursor }) as Record<string, string>);
      const page = await fetchPages<GrantView>(client, '/v1/grants', params, Boolean(o.all));
      if (g.json) return printJson(io, page);
      printTable(io, ['ID', 'STATUS', 'PRINCIPAL', 'RESOURCE', 'ACTIONS', 'PURPOSE', 'EXPIRES'],
        page.items.map((x) => [x.id, x.status, x.principal.name, x.resource.name, x.actions.join(','), x.purpose, x.expires_at]));
      if (page.next_cursor) io.stdout.write(`more: --cursor ${page.next_cursor}\n`);
    }));

  grant.command('show <id>').description('show a grant')
    .addHelpText('after', examples('custos grant show 0190a6f0-…'))
    .action(withClient(io, async (client, g, id: string) => {
      const x = await client.request<GrantView>('GET', `/v1/grants/${encodeURIComponent(id)}`);
      if (g.json) return printJson(io, x);
      printRecord(io, {
        id: x.id, status: x.status, principal: `${x.principal.name} (${x.principal.kind})`, resource: `${x.resource.name} (${x.resource.kind})`,
        actions: x.actions.join(', '), purpose: x.purpose ?? '(any)', expires_at: x.expires_at, reason: x.reason,
        source: x.source_ref ? `${x.source} ${x.source_ref}` : x.source, granted_by: x.granted_by?.name ?? null, created_at: x.created_at,
        ...(x.revoked_at ? { revoked_at: x.revoked_at, revoked_by: x.revoked_by?.name ?? null, revoked_reason: x.revoked_reason } : {}),
      });
    }));

  grant.command('revoke <id>').description('revoke a grant: the next decision no longer sees it (admin, security)')
    .requiredOption(...reasonRequired)
    .addHelpText('after', examples('custos grant revoke 0190a6f0-… --reason "triage done"'))
    .action(withClient(io, async (client, g, id: string, o) => {
      const x = await client.request<GrantView>('POST', `/v1/grants/${encodeURIComponent(id)}/revoke`, { reason: o.reason });
      if (g.json) printJson(io, x); else io.stdout.write(`revoked grant ${x.id}: '${x.principal.name}' on '${x.resource.name}'\n`);
    }));
}
