import { Command, Option } from 'commander';
import { defined, fetchPages, pageOptions, withClient } from '../common.js';
import { printJson, printRecord, printTable, type CliIo } from '../output.js';

interface TeamView {
  id: string; name: string; display_name: string | null; description: string | null; created_at: string;
  members?: Array<{ name: string; kind: string; status: string; role: string }>;
}

export function registerTeamCommands(program: Command, io: CliIo): void {
  const team = program.command('team').description('teams own principals and resources');

  team.command('add <name>').description('create a team')
    .option('--display-name <text>').option('--description <text>').option('--reason <text>')
    .action(withClient(io, async (client, g, name: string, o) => {
      const t = await client.request<TeamView>('POST', '/v1/teams', defined({ name, display_name: o.displayName, description: o.description, reason: o.reason }));
      if (g.json) printJson(io, t); else io.stdout.write(`created team '${t.name}' (${t.id})\n`);
    }));

  pageOptions(team.command('list').description('list teams').option('--member <principal>', 'teams this principal belongs to'))
    .action(withClient(io, async (client, g, o) => {
      const page = await fetchPages<TeamView>(client, '/v1/teams', new URLSearchParams(defined({ member: o.member, limit: o.limit, cursor: o.cursor }) as Record<string, string>), Boolean(o.all));
      if (g.json) return printJson(io, page);
      printTable(io, ['NAME', 'DISPLAY NAME', 'CREATED'], page.items.map((t) => [t.name, t.display_name, t.created_at.slice(0, 10)]));
      if (page.next_cursor) io.stdout.write(`more: --cursor ${page.next_cursor}\n`);
    }));

  team.command('show <name>').description('show a team and its members')
    .action(withClient(io, async (client, g, name: string) => {
      const t = await client.request<TeamView>('GET', `/v1/teams/${encodeURIComponent(name)}`);
      if (g.json) return printJson(io, t);
      const { members, ...rest } = t;
      printRecord(io, rest);
      io.stdout.write('\nmembers:\n');
      printTable(io, ['NAME', 'KIND', 'STATUS', 'ROLE'], (members ?? []).map((m) => [m.name, m.kind, m.status, m.role]));
    }));

  team.command('update <name>').description('change a team\'s display name or description')
    .option('--display-name <text>').option('--description <text>').option('--reason <text>')
    .action(withClient(io, async (client, g, name: string, o) => {
      const t = await client.request<TeamView>('PATCH', `/v1/teams/${encodeURIComponent(name)}`, defined({ display_name: o.displayName, description: o.description, reason: o.reason }));
      if (g.json) printJson(io, t); else io.stdout.write(`updated team '${t.name}'\n`);
    }));

  team.command('add-member <team> <principal>').description('add a principal to a team')
    .addOption(new Option('--role <role>').choices(['member', 'maintainer']).default('member')).option('--reason <text>')
    .action(withClient(io, async (client, g, name: string, principal: string, o) => {
      const t = await client.request<TeamView>('PUT', `/v1/teams/${encodeURIComponent(name)}/members/${encodeURIComponent(principal)}`, defined({ role: o.role, reason: o.reason }));
      if (g.json) printJson(io, t); else io.stdout.write(`'${principal}' is a ${o.role} of '${t.name}'\n`);
    }));

  team.command('remove-member <team> <principal>').description('remove a principal from a team')
    .action(withClient(io, async (client, g, name: string, principal: string) => {
      const t = await client.request<TeamView>('DELETE', `/v1/teams/${encodeURIComponent(name)}/members/${encodeURIComponent(principal)}`);
      if (g.json) printJson(io, t); else io.stdout.write(`removed '${principal}' from '${t.name}'\n`);
    }));
}
