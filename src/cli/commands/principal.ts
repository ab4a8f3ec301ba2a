import { Command, Option } from 'commander';
import {
  AUTONOMY_LEVELS, CLASSIFICATIONS, ENVIRONMENTS, PRINCIPAL_KINDS, PRINCIPAL_STATUSES, RISK_TIERS, toCsv, type PrincipalView,
} from '../../identity/index.js';
import { collect, defined, fetchPages, pageOptions, parseLabels, withClient, writeOutput } from '../common.js';
import { printJson, printRecord, printTable, type CliIo } from '../output.js';

function taxonomyOptions(cmd: Command): Command {
  return cmd
    .option('--display-name <text>')
    .option('--description <text>')
    .option('--owner <human>', 'owning human principal')
    .option('--owner-team <team>', 'owning team')
    .option('--team <team>', 'team the principal belongs to')
    .option('--scope <scope>', 'approved scope (repeatable)', collect)
    .option('--purpose <purpose>', 'allowed purpose (repeatable)', collect)
    .addOption(new Option('--autonomy <level>').choices(AUTONOMY_LEVELS))
    .option('--platform <name>')
    .option('--framework <name>')
    .addOption(new Option('--env <environment>').choices(ENVIRONMENTS))
    .addOption(new Option('--data-ceiling <classification>').choices(CLASSIFICATIONS))
    .addOption(new Option('--risk <tier>').choices(RISK_TIERS))
    .option('--spiffe-id <id>')
    .option('--label <key=value>', 'label (repeatable)', collect)
    .option('--reason <text>', 'why (recorded in the audit log)');
}

function bodyFrom(o: Record<string, any>) {
  return defined({
    display_name: o.displayName,
    description: o.description,
    owner: o.owner,
    owner_team: o.ownerTeam,
    team: o.team,
    scopes: o.scope,
    purposes: o.purpose,
    autonomy: o.autonomy,
    platform: o.platform,
    framework: o.framework,
    environment: o.env,
    data_ceiling: o.dataCeiling,
    risk_tier: o.risk,
    external_ids: o.spiffeId ? { spiffe_id: o.spiffeId } : undefined,
    labels: parseLabels(o.label),
    reason: o.reason,
  });
}

const row = (p: PrincipalView) => [
  p.name, p.kind, p.status + (p.orphaned ? ' (orphaned)' : ''), p.owner?.name ?? (p.owner_team ? `team:${p.owner_team.name}` : ''),
  p.environment ?? '', p.risk_tier, p.review_due_at?.slice(0, 10) ?? '',
];
const HEAD = ['NAME', 'KIND', 'STATUS', 'OWNER', 'ENV', 'RISK', 'REVIEW DUE'];

export function registerPrincipalCommands(program: Command, io: CliIo): void {
  const principal = program.command('principal').description('register and govern AI principals (agents, service accounts, humans, ...)');

  taxonomyOptions(principal.command('add <name>').description('register a principal')
    .addOption(new Option('--kind <kind>').choices(PRINCIPAL_KINDS).makeOptionMandatory())
    .option('--active', 'create it active (admin/security only; default is proposed for non-humans)'))
    .action(withClient(io, async (client, g, name: string, o) => {
      const created = await client.request<PrincipalView>('POST', '/v1/principals', {
        name, kind: o.kind, ...bodyFrom(o), ...(o.active ? { status: 'active' } : {}),
      });
      if (g.json) printJson(io, created);
      else io.stdout.write(`registered ${created.kind} '${created.name}' (${created.id}), status ${created.status}\n`);
    }));

  pageOptions(principal.command('list').description('list principals')
    .addOption(new Option('--kind <kind>').choices(PRINCIPAL_KINDS))
    .addOption(new Option('--status <status>').choices(PRINCIPAL_STATUSES))
    .option('--owner <human>')
    .option('--owner-team <team>')
    .option('--team <team>')
    .addOption(new Option('--env <environment>').choices(ENVIRONMENTS))
    .addOption(new Option('--risk <tier>').choices(RISK_TIERS))
    .option('--orphaned', 'only principals whose owner left')
    .option('--label <key=value>')
    .option('--name-prefix <prefix>'))
    .action(withClient(io, async (client, g, o) => {
      const params = new URLSearchParams(defined({
        kind: o.kind, status: o.status, owner: o.owner, owner_team: o.ownerTeam, team: o.team, environment: o.env,
        risk_tier: o.risk, orphaned: o.orphaned ? 'true' : undefined, label: o.label, name_prefix: o.namePrefix,
        limit: o.limit, cursor: o.cursor,
      }) as Record<string, string>);
      const page = await fetchPages<PrincipalView>(client, '/v1/principals', params, Boolean(o.all));
      if (g.json) return printJson(io, page);
      printTable(io, HEAD, page.items.map(row));
      if (page.next_cursor) io.stdout.write(`more: --cursor ${page.next_cursor}\n`);
    }));

  principal.command('show <name>').description('show one principal')
    .action(withClient(io, async (client, g, name: string) => {
      const p = await client.request<PrincipalView>('GET', `/v1/principals/${encodeURIComponent(name)}`);
      if (g.json) return printJson(io, p);
      printRecord(io, { ...p, owner: p.owner?.name, owner_team: p.owner_team?.name, team: p.team?.name });
    }));

  taxonomyOptions(principal.command('update <name>').description('change a principal\'s fields'))
    .action(withClient(io, async (client, g, name: string, o) => {
      const p = await client.request<PrincipalView>('PATCH', `/v1/principals/${encodeURIComponent(name)}`, bodyFrom(o));
      if (g.json) printJson(io, p);
      else io.stdout.write(`updated '${p.name}' (version ${p.version})\n`);
    }));

  for (const action of ['activate', 'suspend', 'decommission'] as const) {
    principal.command(`${action} <name>`).description(`${action} a principal`)
      .option('--reason <text>', 'why (recorded in the audit log)')
      .action(withClient(io, async (client, g, name: string, o) => {
        const p = await client.request<PrincipalView>('POST', `/v1/principals/${encodeURIComponent(name)}/${action}`, defined({ reason: o.reason }));
        if (g.json) printJson(io, p);
        else io.stdout.write(`'${p.name}' is now ${p.status}\n`);
      }));
  }

  principal.command('review [name]').description('record an access review of NAME, or list what is overdue with --overdue')
    .option('--overdue', 'list principals whose review is overdue')
    .option('--reason <text>')
    .action(withClient(io, async (client, g, name: string | undefined, o) => {
      if (o.overdue || !name) {
        const page = await fetchPages<PrincipalView>(client, '/v1/principals', new URLSearchParams({ review_overdue: 'true', limit: '500' }), true);
        if (g.json) return printJson(io, page);
        printTable(io, HEAD, page.items.map(row));
        return;
      }
      const p = await client.request<PrincipalView>('POST', `/v1/principals/${encodeURIComponent(name)}/review`, defined({ reason: o.reason }));
      if (g.json) printJson(io, p);
      else io.stdout.write(`reviewed '${p.name}'; next review due ${p.review_due_at}\n`);
    }));

  principal.command('export').description('export the whole inventory')
    .addOption(new Option('--format <format>').choices(['json', 'csv']).default('json'))
    .option('--output <file>', 'write to a file instead of stdout')
    .action(withClient(io, async (client, _g, o) => {
      const page = await fetchPages<PrincipalView>(client, '/v1/principals', new URLSearchParams({ limit: '500' }), true);
      // The same renderer as the API's format=csv, over every page at once (one header, quoted cells intact).
      if (o.format === 'csv') return writeOutput(io, toCsv(page.items), o.output);
      writeOutput(io, JSON.stringify(page.items, null, 2) + '\n', o.output);
    }));
}
