import { Command, Option } from 'commander';
import {
  AUTONOMY_LEVELS, CLASSIFICATIONS, ENVIRONMENTS, PRINCIPAL_KINDS, PRINCIPAL_STATUSES, RISK_TIERS, toCsv, type PrincipalView,
} from '../../identity/index.js';
import { CliError } from '../client.js';
import { kindPhrase } from '../../platform/text.js';
import { collect, defined, examples, fetchPages, pageOptions, parseLabels, withClient, writeOutput } from '../common.js';
import { printJson, printRecord, printTable, type CliIo } from '../output.js';

/** Help text that ends every command's --help: one or more commands to copy. */

function taxonomyOptions(cmd: Command, mode: 'add' | 'update'): Command {
  cmd
    .option('--display-name <text>', 'human-friendly name (up to 200 characters)')
    .option('--description <text>', 'what it is for (up to 4000 characters)')
    .option('--owner <human>', 'owning human principal, id or name (non-humans only; replaces --owner-team)')
    .option('--owner-team <team>', 'owning team, id or name (non-humans only; replaces --owner)')
    .option('--team <team>', 'home team: where the principal is filed, not ownership or membership (owners may pick only their own teams)')
    .option('--scope <scope>', `approved scope, e.g. model:invoke (repeatable${mode === 'update' ? '; replaces the list' : ''})`, collect)
    .option('--purpose <purpose>', `allowed purpose, e.g. customer-support (repeatable${mode === 'update' ? '; replaces the list' : ''})`, collect)
    .addOption(new Option('--autonomy <level>', 'how much it acts on its own').choices(AUTONOMY_LEVELS))
    .option('--platform <name>', 'where it runs, e.g. bedrock')
    .option('--framework <name>', 'what it is built with, e.g. langgraph')
    .addOption(new Option('--env <environment>', 'deployment environment').choices(ENVIRONMENTS))
    .addOption(new Option('--data-ceiling <classification>', 'highest data classification it may touch').choices(CLASSIFICATIONS))
    .addOption(new Option('--risk <tier>', 'risk tier (sets the access-review period)').choices(RISK_TIERS))
    .option('--spiffe-id <id>', 'its SPIFFE ID, spiffe://trust-domain/path')
    .option('--may-delegate-to <list>', `who may act for it through token exchange: principals (id or name) and kind:<kind> entries, comma-separated, e.g. planner,kind:agent${mode === 'update' ? ' (replaces the list; "" clears it)' : ''}`, commaList)
    .option('--label <key=value>', mode === 'add' ? 'label (repeatable)' : 'label (repeatable); replaces ALL labels with the ones given', collect);
  if (mode === 'update') {
    cmd
      .option('--add-label <key=value>', 'add or change one label, keeping the others (repeatable)', collect)
      .option('--remove-label <key>', 'remove one label by key, keeping the others (repeatable)', collect)
      .option('--clear-labels', 'remove every label');
  }
  return cmd.option('--reason <text>', 'why (recorded in the audit log)');
}

/** `a, b,kind:agent` → ['a', 'b', 'kind:agent']; an empty string is the empty list. */
export const commaList = (value: string) => value.split(',').map((s) => s.trim()).filter(Boolean);

/** The label fields of a PATCH body from --label / --add-label / --remove-label / --clear-labels. */
export function labelPatch(o: Record<string, any>) {
  if (o.clearLabels && (o.label || o.addLabel || o.removeLabel)) throw new CliError('--clear-labels cannot be combined with other label options', 2);
  if (o.label && (o.addLabel || o.removeLabel)) throw new CliError('--label replaces every label; use it alone, or use --add-label/--remove-label', 2);
  return defined({
    labels: o.clearLabels ? {} : parseLabels(o.label),
    labels_add: parseLabels(o.addLabel),
    labels_remove: o.removeLabel as string[] | undefined,
  });
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
    may_delegate_to: o.mayDelegateTo,
    reason: o.reason,
  });
}

const row = (p: PrincipalView) => [
  p.name, p.kind, p.status + (p.orphaned ? ' (orphaned)' : ''), p.owner?.name ?? (p.owner_team ? `team:${p.owner_team.name}` : ''),
  p.environment ?? '', p.risk_tier, p.review_due_at?.slice(0, 10) ?? '',
];
const HEAD = ['NAME', 'KIND', 'STATUS', 'OWNER', 'ENV', 'RISK', 'REVIEW DUE'];

const LIFECYCLE_HELP = {
  activate: 'activate a proposed or suspended principal (admin/security)',
  suspend: 'suspend an active principal: its credentials stop working at once',
  decommission: 'retire a principal for good (terminal)',
} as const;
const LIFECYCLE_REASON = { activate: 'security review passed', suspend: 'INC-42: unexpected tool calls', decommission: 'replaced by support-bot-v2' } as const;


export function registerPrincipalCommands(program: Command, io: CliIo): void {
  const principal = program.command('principal').description('register and govern AI principals (agents, service accounts, humans, ...)');

  principal.addHelpText('after', examples('custos principal add support-bot --kind agent --owner alice --env prod', 'custos principal list --kind agent'));

  taxonomyOptions(principal.command('add <name>').description('register a principal')
    .addOption(new Option('--kind <kind>', 'what it is (humans have no owner; every other kind needs one)').choices(PRINCIPAL_KINDS).makeOptionMandatory())
    .option('--active', 'create it active (admin/security only; default is proposed for non-humans)'), 'add')
    .addHelpText('after', examples(
      'custos principal add alice --kind human',
      'custos principal add support-bot --kind agent --owner alice --env prod --scope model:invoke --label app=helpdesk --reason "JIRA-123"',
      'custos principal add planner --kind agent --owner alice --may-delegate-to retriever,kind:workload',
    ))
    .action(withClient(io, async (client, g, name: string, o) => {
      const created = await client.request<PrincipalView>('POST', '/v1/principals', {
        name, kind: o.kind, ...bodyFrom(o), ...defined({ labels: parseLabels(o.label) }), ...(o.active ? { status: 'active' } : {}),
      });
      if (g.json) printJson(io, created);
      else io.stdout.write(`registered ${kindPhrase(created.kind)} '${created.name}' (${created.id}), status ${created.status}\n`);
    }));

  pageOptions(principal.command('list').description('list principals (owner-role operators see what they or their teams own, and themselves)')
    .addOption(new Option('--kind <kind>', 'only this kind').choices(PRINCIPAL_KINDS))
    .addOption(new Option('--status <status>', 'only this lifecycle status').choices(PRINCIPAL_STATUSES))
    .option('--owner <human>', 'only those owned by this human (id or name)')
    .option('--owner-team <team>', 'only those owned by this team')
    .option('--team <team>', 'only those whose home team this is (not membership: see custos team show)')
    .addOption(new Option('--env <environment>', 'only this environment').choices(ENVIRONMENTS))
    .addOption(new Option('--risk <tier>', 'only this risk tier').choices(RISK_TIERS))
    .option('--orphaned', 'only principals whose owner left')
    .option('--label <key=value>', 'only those carrying this label')
    .option('--name-prefix <prefix>', 'only names starting with this')
    .addHelpText('after', examples('custos principal list --kind agent --env prod', 'custos principal list --label app=helpdesk --all --json')))
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

  principal.command('show <name>').description('show one principal (id or name)')
    .addHelpText('after', examples('custos principal show support-bot'))
    .action(withClient(io, async (client, g, name: string) => {
      const p = await client.request<PrincipalView>('GET', `/v1/principals/${encodeURIComponent(name)}`);
      if (g.json) return printJson(io, p);
      printRecord(io, { ...p, owner: p.owner?.name, owner_team: p.owner_team?.name, team: p.team?.name });
    }));

  taxonomyOptions(principal.command('update <name>').description('change a principal\'s fields (only the options given change)'), 'update')
    .addHelpText('after', examples(
      'custos principal update support-bot --data-ceiling internal --reason "DPIA approved"',
      'custos principal update support-bot --add-label cost-center=42 --remove-label legacy',
      'custos principal update planner --may-delegate-to retriever,kind:agent --reason "sub-agents act for it"',
    ))
    .action(withClient(io, async (client, g, name: string, o) => {
      const p = await client.request<PrincipalView>('PATCH', `/v1/principals/${encodeURIComponent(name)}`, { ...bodyFrom(o), ...labelPatch(o) });
      if (g.json) printJson(io, p);
      else io.stdout.write(`updated '${p.name}' (version ${p.version})\n`);
    }));

  for (const action of ['activate', 'suspend', 'decommission'] as const) {
    principal.command(`${action} <name>`).description(LIFECYCLE_HELP[action])
      .option('--reason <text>', 'why (recorded in the audit log)')
      .addHelpText('after', examples(`custos principal ${action} support-bot --reason "${LIFECYCLE_REASON[action]}"`))
      .action(withClient(io, async (client, g, name: string, o) => {
        const p = await client.request<PrincipalView>('POST', `/v1/principals/${encodeURIComponent(name)}/${action}`, defined({ reason: o.reason }));
        if (g.json) printJson(io, p);
        else io.stdout.write(`'${p.name}' is now ${p.status}\n`);
      }));
  }

  principal.command('review [name]').description('record an access review of NAME, or list what is overdue with --overdue')
    .option('--overdue', 'list principals whose review is overdue')
    .option('--reason <text>', 'what the review found (recorded in the audit log)')
    .addHelpText('after', examples('custos principal review --overdue', 'custos principal review support-bot --reason "Q3 access review: scopes still needed"'))
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

  principal.command('export').description('export the whole inventory (every page)')
    .addOption(new Option('--format <format>', 'output format').choices(['json', 'csv']).default('json'))
    .option('--output <file>', 'write to a file (mode 0600) instead of stdout')
    .addHelpText('after', examples('custos principal export --format csv --output inventory.csv'))
    .action(withClient(io, async (client, _g, o) => {
      const page = await fetchPages<PrincipalView>(client, '/v1/principals', new URLSearchParams({ limit: '500' }), true);
      // The same renderer as the API's format=csv, over every page at once (one header, quoted cells intact).
      if (o.format === 'csv') return writeOutput(io, toCsv(page.items), o.output);
      writeOutput(io, JSON.stringify(page.items, null, 2) + '\n', o.output);
    }));
}
