import { Command, Option } from 'commander';
import type { TeamView } from '../../identity/index.js';
import { defined, examples, fetchPages, pageOptions, withClient } from '../common.js';
import { printJson, printRecord, printTable, type CliIo } from '../output.js';

const reason = ['--reason <text>', 'why (recorded in the audit log)'] as const;

export function registerTeamCommands(program: Command, io: CliIo): void {
  const team = program.command('team').description('teams: their members own principals and resources together (admin/security manage them)')
    .addHelpText('after', examples('custos team add ml-platform --display-name "ML platform"', 'custos team add-member ml-platform alice --role maintainer'));

  team.command('add <name>').description('create a team')
    .option('--display-name <text>', 'human-friendly name (up to 200 characters)')
    .option('--description <text>', 'what the team does (up to 4000 characters)')
    .option(...reason)
    .addHelpText('after', examples('custos team add ml-platform --display-name "ML platform" --reason "reorg 2026"'))
    .action(withClient(io, async (client, g, name: string, o) => {
      const t = await client.request<TeamView>('POST', '/v1/teams', defined({ name, display_name: o.displayName, description: o.description, reason: o.reason }));
      if (g.json) printJson(io, t); else io.stdout.write(`created team '${t.name}' (${t.id})\n`);
    }));

  pageOptions(team.command('list').description('list teams')
    .option('--member <principal>', 'only teams this principal is a member of (membership, not home team)')
    .option('--name-prefix <prefix>', 'only names starting with this')
    .addHelpText('after', examples('custos team list --member alice')))
    .action(withClient(io, async (client, g, o) => {
      const params = new URLSearchParams(defined({ member: o.member, name_prefix: o.namePrefix, limit: o.limit, cursor: o.cursor }) as Record<string, string>);
      const page = await fetchPages<TeamView>(client, '/v1/teams', params, Boolean(o.all));
      if (g.json) return printJson(io, page);
      printTable(io, ['NAME', 'DISPLAY NAME', 'CREATED'], page.items.map((t) => [t.name, t.display_name, t.created_at.slice(0, 10)]));
      if (page.next_cursor) io.stdout.write(`more: --cursor ${page.next_cursor}\n`);
    }));

  team.command('show <name>').description('show a team and its members (principals filed under it as home team are listed by: custos principal list --team NAME)')
    .addHelpText('after', examples('custos team show ml-platform'))
    .action(withClient(io, async (client, g, name: string) => {
      const t = await client.request<TeamView>('GET', `/v1/teams/${encodeURIComponent(name)}`);
      if (g.json) return printJson(io, t);
      const { members, ...rest } = t;
      printRecord(io, rest);
      io.stdout.write('\nmembers:\n');
      if (!members) io.stdout.write('(shown only to members of this team, admin, security and auditors)\n');
      else printTable(io, ['NAME', 'KIND', 'STATUS', 'ROLE'], members.map((m) => [m.name, m.kind, m.status, m.role]));
    }));

  team.command('update <name>').description('change a team\'s display name or description')
    .option('--display-name <text>', 'human-friendly name (up to 200 characters)')
    .option('--description <text>', 'what the team does (up to 4000 characters)')
    .option(...reason)
    .addHelpText('after', examples('custos team update ml-platform --description "Owns ranking and search models"'))
    .action(withClient(io, async (client, g, name: string, o) => {
      const t = await client.request<TeamView>('PATCH', `/v1/teams/${encodeURIComponent(name)}`, defined({ display_name: o.displayName, description: o.description, reason: o.reason }));
      if (g.json) printJson(io, t); else io.stdout.write(`updated team '${t.name}'\n`);
    }));

  team.command('add-member <team> <principal>').description('add a principal to a team, or change its role there')
    .addOption(new Option('--role <role>', 'member, or maintainer').choices(['member', 'maintainer']).default('member'))
    .option(...reason)
    .addHelpText('after', examples('custos team add-member ml-platform alice --role maintainer'))
    .action(withClient(io, async (client, g, name: string, principal: string, o) => {
      const t = await client.request<TeamView>('PUT', `/v1/teams/${encodeURIComponent(name)}/members/${encodeURIComponent(principal)}`, defined({ role: o.role, reason: o.reason }));
      if (g.json) printJson(io, t); else io.stdout.write(`'${principal}' is ${o.role === 'maintainer' ? 'a maintainer' : 'a member'} of '${t.name}'\n`);
    }));

  team.command('remove-member <team> <principal>').description('remove a principal from a team (it loses what it managed through the team at once)')
    .addHelpText('after', examples('custos team remove-member ml-platform alice'))
    .action(withClient(io, async (client, g, name: string, principal: string) => {
      const t = await client.request<TeamView>('DELETE', `/v1/teams/${encodeURIComponent(name)}/members/${encodeURIComponent(principal)}`);
      if (g.json) printJson(io, t); else io.stdout.write(`removed '${principal}' from '${t.name}'\n`);
    }));
}
