import { Command, Option } from 'commander';
import { FINDING_STATUSES, SEVERITIES, type FindingView } from '../../findings/index.js';
import { defined, fetchPages, pageOptions, withClient } from '../common.js';
import { printJson, printRecord, printTable, type CliIo } from '../output.js';

export function registerFindingCommands(program: Command, io: CliIo): void {
  const findings = program.command('findings').description('leaked secrets reported by `custos scan --report`');

  pageOptions(findings.command('list').description('list findings, highest priority first')
    .addOption(new Option('--status <status>').choices(FINDING_STATUSES))
    .addOption(new Option('--severity <severity>').choices(SEVERITIES))
    .option('--rule <id>').option('--credential <id>'))
    .action(withClient(io, async (client, g, o) => {
      const params = new URLSearchParams(defined({ status: o.status, severity: o.severity, rule: o.rule, credential: o.credential, limit: o.limit, cursor: o.cursor }) as Record<string, string>);
      const page = await fetchPages<FindingView>(client, '/v1/findings', params, Boolean(o.all));
      if (g.json) return printJson(io, page);
      const items = [...page.items].sort((a, b) => b.priority_score - a.priority_score);
      printTable(io, ['PRIORITY', 'STATUS', 'SEVERITY', 'RULE', 'SECRET', 'WHERE', 'CREDENTIAL'], items.map((f) => [
        f.priority, f.status, f.severity, f.rule_id, f.redacted, `${f.location.path ?? f.target}:${f.location.line ?? ''}`, f.credential?.id ?? '',
      ]));
      if (page.next_cursor) io.stdout.write(`more: --cursor ${page.next_cursor}\n`);
    }));

  findings.command('show <id>').description('show a finding (id or fingerprint)')
    .action(withClient(io, async (client, g, id: string) => {
      const f = await client.request<FindingView>('GET', `/v1/findings/${encodeURIComponent(id)}`);
      if (g.json) return printJson(io, f);
      printRecord(io, f as unknown as Record<string, unknown>);
    }));

  findings.command('update <id>').description('change a finding\'s status')
    .addOption(new Option('--status <status>').choices(['open', 'rotated', 'accepted', 'false_positive']).makeOptionMandatory())
    .option('--note <text>')
    .action(withClient(io, async (client, g, id: string, o) => {
      const f = await client.request<FindingView>('PATCH', `/v1/findings/${encodeURIComponent(id)}`, defined({ status: o.status, note: o.note }));
      if (g.json) printJson(io, f); else io.stdout.write(`finding ${f.id} is now ${f.status}\n`);
    }));
}
