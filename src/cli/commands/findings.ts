import { Command, Option } from 'commander';
import { FINDING_STATUSES, SEVERITIES, type FindingView } from '../../findings/index.js';
import { defined, examples, fetchPages, pageOptions, withClient } from '../common.js';
import { printJson, printRecord, printTable, type CliIo } from '../output.js';

/** Statuses an operator may set by hand: 'revoked' is set only by automatic revocation. */
const SETTABLE = FINDING_STATUSES.filter((s) => s !== 'revoked');

export function registerFindingCommands(program: Command, io: CliIo): void {
  const findings = program.command('findings').description('leaked secrets reported by `custos scan --report`')
    .addHelpText('after', examples('custos findings list --status open', 'custos findings update <id> --status rotated --note "key rotated in vault"'));

  pageOptions(findings.command('list').description('list findings, highest priority first')
    .addOption(new Option('--status <status>', 'only this remediation status').choices(FINDING_STATUSES))
    .addOption(new Option('--severity <severity>', 'only this severity').choices(SEVERITIES))
    .option('--rule <id>', 'only findings of this scanner rule, e.g. openai-api-key')
    .option('--credential <id>', 'only findings of this Custos credential id')
    .addHelpText('after', examples('custos findings list --status open --severity critical', 'custos findings list --all --json')))
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
    .addHelpText('after', examples('custos findings show 0123456789abcdef0123456789abcdef'))
    .action(withClient(io, async (client, g, id: string) => {
      const f = await client.request<FindingView>('GET', `/v1/findings/${encodeURIComponent(id)}`);
      if (g.json) return printJson(io, f);
      printRecord(io, f as unknown as Record<string, unknown>);
    }));

  findings.command('update <id>').description('change a finding\'s remediation status (id or fingerprint)')
    .addOption(new Option('--status <status>', 'the new status (revoked is set only by automatic revocation)').choices(SETTABLE).makeOptionMandatory())
    .option('--note <text>', 'what was done (up to 2000 characters)')
    .addHelpText('after', examples('custos findings update 0123456789abcdef0123456789abcdef --status false_positive --note "test fixture"'))
    .action(withClient(io, async (client, g, id: string, o) => {
      const f = await client.request<FindingView>('PATCH', `/v1/findings/${encodeURIComponent(id)}`, defined({ status: o.status, note: o.note }));
      if (g.json) printJson(io, f); else io.stdout.write(`finding ${f.id} is now ${f.status.replace(/_/g, ' ')}\n`);
    }));
}
