import { Command, Option } from 'commander';
import { CLASSIFICATIONS, RESOURCE_KINDS, RISK_TIERS, type ResourceView } from '../../identity/index.js';
import { collect, defined, examples, fetchPages, pageOptions, parseLabels, withClient } from '../common.js';
import { printJson, printRecord, printTable, type CliIo } from '../output.js';
import { labelPatch } from './principal.js';


function fields(cmd: Command, mode: 'add' | 'update'): Command {
  cmd
    .option('--display-name <text>', 'human-friendly name (up to 200 characters)')
    .option('--description <text>', 'what it is (up to 4000 characters)')
    .option('--owner <human>', 'owning human principal, id or name (replaces --owner-team; admin/security only on update)')
    .option('--owner-team <team>', 'owning team, id or name (replaces --owner; admin/security only on update)')
    .addOption(new Option('--classification <level>', 'data classification (owners may only raise it)').choices(CLASSIFICATIONS))
    .addOption(new Option('--risk <tier>', 'risk tier (owners may only raise it)').choices(RISK_TIERS))
    .option('--purpose <purpose>', `allowed purpose (repeatable${mode === 'update' ? '; replaces the list; owners may only remove' : ''})`, collect)
    .option('--uri <uri>', 'audience URI tokens for it carry (RFC 8707 resource indicator): absolute http(s) or urn:, unique; default urn:custos:resource:<name>')
    // Not --server: that global option names the control plane's URL.
    .option('--served-by <principal>', 'the non-human principal serving it, id or name (may introspect tokens addressed to it)')
    .option('--label <key=value>', mode === 'add' ? 'label (repeatable)' : 'label (repeatable); replaces ALL labels with the ones given', collect);
  if (mode === 'update') {
    cmd
      .option('--add-label <key=value>', 'add or change one label, keeping the others (repeatable)', collect)
      .option('--remove-label <key>', 'remove one label by key, keeping the others (repeatable)', collect)
      .option('--clear-labels', 'remove every label')
      .option('--parent <resource>', 'move under this resource (owners: only one they own)')
      .option('--no-parent', 'detach from its parent')
      .option('--no-uri', 'clear the audience URI (tokens then carry urn:custos:resource:<name>)')
      .option('--no-served-by', 'clear the serving principal');
  } else {
    cmd.option('--parent <resource>', 'parent resource, id or name (owners: only one they own)');
  }
  return cmd.option('--reason <text>', 'why (recorded in the audit log)');
}

const body = (o: Record<string, any>) => defined({
  display_name: o.displayName, description: o.description, owner: o.owner, owner_team: o.ownerTeam,
  classification: o.classification, risk_tier: o.risk, purposes: o.purpose,
  // commander sets parent, uri and servedBy to false for --no-parent, --no-uri and --no-served-by.
  parent: o.parent === false ? null : o.parent,
  uri: o.uri === false ? null : o.uri,
  server: o.servedBy === false ? null : o.servedBy,
  reason: o.reason,
});

export function registerResourceCommands(program: Command, io: CliIo): void {
  const resource = program.command('resource').description('the catalog of AI assets: models, datasets, pipelines, endpoints, tools, vector indexes')
    .addHelpText('after', examples('custos resource add fraud-project --kind dataset --owner-team ml-platform --classification confidential', 'custos resource list --parent fraud-project'));

  fields(resource.command('add <name>').description('register a resource')
    .addOption(new Option('--kind <kind>', 'what kind of asset it is').choices(RESOURCE_KINDS).makeOptionMandatory()), 'add')
    .addHelpText('after', examples(
      'custos resource add fraud-project --kind dataset --owner-team ml-platform --classification confidential',
      'custos resource add fraud-2025 --kind dataset --owner-team ml-platform --parent fraud-project --label year=2025',
      'custos resource add llm-gateway --kind endpoint --owner-team ml-platform --uri https://gw.example.com --served-by gateway-svc',
    ))
    .action(withClient(io, async (client, g, name: string, o) => {
      const r = await client.request<ResourceView>('POST', '/v1/resources', { name, kind: o.kind, ...body(o), ...defined({ labels: parseLabels(o.label) }) });
      if (g.json) printJson(io, r); else io.stdout.write(`registered ${r.kind.replace(/_/g, ' ')} '${r.name}' (${r.id})\n`);
    }));

  pageOptions(resource.command('list').description('list resources (owner-role operators see only what they or their teams own)')
    .addOption(new Option('--kind <kind>', 'only this kind').choices(RESOURCE_KINDS))
    .addOption(new Option('--classification <level>', 'only this classification').choices(CLASSIFICATIONS))
    .option('--parent <resource>', 'only the children of this resource')
    .option('--owner <human>', 'only those owned by this human')
    .option('--owner-team <team>', 'only those owned by this team')
    .option('--label <key=value>', 'only those carrying this label')
    .option('--name-prefix <prefix>', 'only names starting with this')
    .addHelpText('after', examples('custos resource list --kind model --classification restricted', 'custos resource list --parent fraud-project --all --json')))
    .action(withClient(io, async (client, g, o) => {
      const params = new URLSearchParams(defined({
        kind: o.kind, classification: o.classification, parent: o.parent, owner: o.owner, owner_team: o.ownerTeam, label: o.label,
        name_prefix: o.namePrefix, limit: o.limit, cursor: o.cursor,
      }) as Record<string, string>);
      const page = await fetchPages<ResourceView>(client, '/v1/resources', params, Boolean(o.all));
      if (g.json) return printJson(io, page);
      printTable(io, ['NAME', 'KIND', 'CLASSIFICATION', 'RISK', 'OWNER', 'PARENT'], page.items.map((r) => [
        r.name, r.kind, r.classification, r.risk_tier, r.owner?.name ?? (r.owner_team ? `team:${r.owner_team.name}` : ''), r.parent?.name,
      ]));
      if (page.next_cursor) io.stdout.write(`more: --cursor ${page.next_cursor}\n`);
    }));

  resource.command('show <name>').description('show a resource (id or name)')
    .addHelpText('after', examples('custos resource show fraud-2025'))
    .action(withClient(io, async (client, g, name: string) => {
      const r = await client.request<ResourceView>('GET', `/v1/resources/${encodeURIComponent(name)}`);
      if (g.json) return printJson(io, r);
      printRecord(io, { ...r, owner: r.owner?.name, owner_team: r.owner_team?.name, parent: r.parent?.name, server: r.server?.name });
    }));

  fields(resource.command('update <name>').description('change a resource (only the options given change)'), 'update')
    .addHelpText('after', examples(
      'custos resource update fraud-2025 --classification restricted --reason "contains PII"',
      'custos resource update fraud-2025 --add-label owner-ticket=DATA-9 --remove-label draft',
      'custos resource update llm-gateway --uri https://gw.example.com --served-by gateway-svc',
    ))
    .action(withClient(io, async (client, g, name: string, o) => {
      const r = await client.request<ResourceView>('PATCH', `/v1/resources/${encodeURIComponent(name)}`, { ...body(o), ...labelPatch(o) });
      if (g.json) printJson(io, r); else io.stdout.write(`updated '${r.name}'\n`);
    }));

  resource.command('delete <name>').description('delete a resource that has no children')
    .option('--reason <text>', 'why (recorded in the audit log)')
    .addHelpText('after', examples('custos resource delete fraud-2025 --reason "dataset retired"'))
    .action(withClient(io, async (client, g, name: string, o) => {
      const query = o.reason ? `?${new URLSearchParams({ reason: o.reason }).toString()}` : '';
      await client.request('DELETE', `/v1/resources/${encodeURIComponent(name)}${query}`);
      if (g.json) printJson(io, { deleted: name }); else io.stdout.write(`deleted '${name}'\n`);
    }));
}
