import { Command, Option } from 'commander';
import { CLASSIFICATIONS, RESOURCE_KINDS, RISK_TIERS, type ResourceView } from '../../identity/index.js';
import { collect, defined, fetchPages, pageOptions, parseLabels, withClient } from '../common.js';
import { printJson, printRecord, printTable, type CliIo } from '../output.js';

function fields(cmd: Command): Command {
  return cmd
    .option('--display-name <text>').option('--description <text>')
    .option('--owner <human>').option('--owner-team <team>')
    .addOption(new Option('--classification <level>').choices(CLASSIFICATIONS))
    .addOption(new Option('--risk <tier>').choices(RISK_TIERS))
    .option('--purpose <purpose>', 'allowed purpose (repeatable)', collect)
    .option('--label <key=value>', 'label (repeatable)', collect)
    .option('--parent <resource>', 'parent resource')
    .option('--reason <text>');
}

const body = (o: Record<string, any>) => defined({
  display_name: o.displayName, description: o.description, owner: o.owner, owner_team: o.ownerTeam,
  classification: o.classification, risk_tier: o.risk, purposes: o.purpose, labels: parseLabels(o.label), parent: o.parent, reason: o.reason,
});

export function registerResourceCommands(program: Command, io: CliIo): void {
  const resource = program.command('resource').description('the catalog of AI assets: models, datasets, pipelines, endpoints, tools, vector indexes');

  fields(resource.command('add <name>').description('register a resource').addOption(new Option('--kind <kind>').choices(RESOURCE_KINDS).makeOptionMandatory()))
    .action(withClient(io, async (client, g, name: string, o) => {
      const r = await client.request<ResourceView>('POST', '/v1/resources', { name, kind: o.kind, ...body(o) });
      if (g.json) printJson(io, r); else io.stdout.write(`registered ${r.kind} '${r.name}' (${r.id})\n`);
    }));

  pageOptions(resource.command('list').description('list resources')
    .addOption(new Option('--kind <kind>').choices(RESOURCE_KINDS))
    .addOption(new Option('--classification <level>').choices(CLASSIFICATIONS))
    .option('--parent <resource>').option('--owner <human>').option('--owner-team <team>').option('--label <key=value>'))
    .action(withClient(io, async (client, g, o) => {
      const params = new URLSearchParams(defined({ kind: o.kind, classification: o.classification, parent: o.parent, owner: o.owner, owner_team: o.ownerTeam, label: o.label, limit: o.limit, cursor: o.cursor }) as Record<string, string>);
      const page = await fetchPages<ResourceView>(client, '/v1/resources', params, Boolean(o.all));
      if (g.json) return printJson(io, page);
      printTable(io, ['NAME', 'KIND', 'CLASSIFICATION', 'RISK', 'OWNER', 'PARENT'], page.items.map((r) => [
        r.name, r.kind, r.classification, r.risk_tier, r.owner?.name ?? (r.owner_team ? `team:${r.owner_team.name}` : ''), r.parent?.name,
      ]));
      if (page.next_cursor) io.stdout.write(`more: --cursor ${page.next_cursor}\n`);
    }));

  resource.command('show <name>').description('show a resource')
    .action(withClient(io, async (client, g, name: string) => {
      const r = await client.request<ResourceView>('GET', `/v1/resources/${encodeURIComponent(name)}`);
      if (g.json) return printJson(io, r);
      printRecord(io, { ...r, owner: r.owner?.name, owner_team: r.owner_team?.name, parent: r.parent?.name });
    }));

  fields(resource.command('update <name>').description('change a resource'))
    .action(withClient(io, async (client, g, name: string, o) => {
      const r = await client.request<ResourceView>('PATCH', `/v1/resources/${encodeURIComponent(name)}`, body(o));
      if (g.json) printJson(io, r); else io.stdout.write(`updated '${r.name}'\n`);
    }));

  resource.command('delete <name>').description('delete a resource that has no children')
    .action(withClient(io, async (client, g, name: string) => {
      await client.request('DELETE', `/v1/resources/${encodeURIComponent(name)}`);
      if (g.json) printJson(io, { deleted: name }); else io.stdout.write(`deleted '${name}'\n`);
    }));
}
