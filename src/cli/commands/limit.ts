import { Argument, Command, InvalidArgumentError, Option } from 'commander';
import { MAX_LIMIT_VALUE, METRIC_RULES, METRICS, TARGET_KINDS, type Metric } from '../../gateway/limits/limits.js';
import type { LimitView, LimitWithUsageView } from '../../gateway/limits/limits.schemas.js';
import { CliError } from '../client.js';
import { defined, examples, fetchPages, pageOptions, withClient } from '../common.js';
import { printJson, printRecord, printTable, sanitizeCell, type CliIo } from '../output.js';

// `custos limit`: requests and tokens per minute and token budgets per day and month on a principal, a team or a
// resource (/v1/limits), enforced by the gateway on every call; a change applies to the next call. Admins and
// security set and remove limits; auditors read them too. Values are checked before any request (whole numbers
// with an optional k or M suffix, or `none` to clear one). Docs: docs/limits.md.

const OPTION_OF: Record<Metric, string> = {
  requests_per_minute: '--requests-per-minute', tokens_per_minute: '--tokens-per-minute', tokens_per_day: '--tokens-per-day', tokens_per_month: '--tokens-per-month',
};
const SHORT: Record<Metric, string> = { requests_per_minute: 'requests/min', tokens_per_minute: 'tokens/min', tokens_per_day: 'tokens/day', tokens_per_month: 'tokens/month' };

/**
 * `--tokens-per-day 250k`: a whole number 1…2,147,483,647 (k = thousand, M = million), or `none` (clears it; kept as
 * the string 'none' because commander treats an option parser's null as "no value").
 */
export function parseLimitValue(option: string) {
  return (value: string): number | 'none' => {
    const text = value.trim();
    if (text.toLowerCase() === 'none') return 'none';
    const m = /^(\d{1,10})([kKmM]?)$/.exec(text.replace(/_/g, ''));
    const n = m ? Number(m[1]) * (m[2] === '' ? 1 : /k/i.test(m[2]!) ? 1_000 : 1_000_000) : NaN;
    if (!Number.isSafeInteger(n) || n < 1 || n > MAX_LIMIT_VALUE) {
      throw new InvalidArgumentError(`${option} takes a whole number from 1 to ${MAX_LIMIT_VALUE} (e.g. 5000, 250k, 10M), or none to clear it`);
    }
    return n;
  };
}

/** 1234567 → "1,234,567" (the same on every locale). */
export function grouped(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function valuesText(l: LimitView): string {
  const set = METRICS.filter((m) => l[m] !== null).map((m) => `${grouped(l[m]!)} ${SHORT[m]}`);
  return set.length ? set.join(', ') : 'nothing';
}

function targetText(l: LimitView): string {
  return l.target.name === null ? `${l.target.id} (deleted)` : l.target.name;
}

const kindArgument = () => new Argument('<kind>', `what the limit is on: ${TARGET_KINDS.join(', ')}`).choices(TARGET_KINDS);
const refArgument = () => new Argument('<ref>', 'the principal, team or resource: name or id');
const limitPath = (kind: string, ref: string) => `/v1/limits/${kind}/${encodeURIComponent(ref)}`;

export function registerLimitCommands(program: Command, io: CliIo): void {
  const limit = program.command('limit').description('requests and tokens per minute and token budgets per day and month on principals, teams and resources (admin/security change; auditors read)')
    .addHelpText('after', examples(
      'custos limit set principal support-bot --requests-per-minute 60 --tokens-per-day 500k --reason "pilot quota"',
      'custos limit set team ml --tokens-per-month 50M --reason "Q3 budget"',
      'custos limit show principal support-bot',
    ));

  const set = limit.command('set').description('set (create or change) the limit on a principal, team or resource; values not given are kept; applies to the next call (admins, security)')
    .addArgument(kindArgument())
    .addArgument(refArgument());
  for (const metric of METRICS) {
    const rule = METRIC_RULES[metric];
    const what = rule.unit === 'requests' ? 'requests' : 'tokens (prompt and completion)';
    set.addOption(new Option(`${OPTION_OF[metric]} <n>`, `${what} per UTC ${rule.window}; none clears it`).argParser(parseLimitValue(OPTION_OF[metric])));
  }
  set.requiredOption('--reason <text>', 'why (recorded in the audit log)')
    .addHelpText('after', examples(
      'custos limit set principal support-bot --requests-per-minute 60 --tokens-per-minute 40k --reason "pilot quota"',
      'custos limit set resource gpt-4o --tokens-per-day 2M --tokens-per-month 40M --reason "cost ceiling"',
      'custos limit set team ml --tokens-per-day none --reason "monthly budget only"',
    ))
    .action(withClient(io, async (client, g, kind: string, ref: string, o) => {
      const given = (m: Metric) => o[toCamel(m)] as number | 'none' | undefined;
      const body = defined(Object.fromEntries(METRICS.map((m) => [m, given(m) === 'none' ? null : given(m)])));
      if (Object.keys(body).length === 0) throw new CliError(`nothing to set: give ${METRICS.map((m) => OPTION_OF[m]).join(', ')}`, 2);
      const l = await client.request<LimitView>('PUT', limitPath(kind, ref), { ...body, reason: o.reason });
      if (g.json) return printJson(io, l);
      io.stdout.write(`limit on ${l.target.kind} '${sanitizeCell(targetText(l))}': ${valuesText(l)} (applies to the next call)\n`);
    }));

  pageOptions(limit.command('list').description('list limits')
    .addOption(new Option('--kind <kind>', 'only limits on principals, teams or resources').choices(TARGET_KINDS))
    .addHelpText('after', examples('custos limit list', 'custos limit list --kind team', 'custos --json limit list --all')))
    .action(withClient(io, async (client, g, o) => {
      const params = new URLSearchParams(defined({ kind: o.kind, limit: o.limit, cursor: o.cursor }) as Record<string, string>);
      const page = await fetchPages<LimitView>(client, '/v1/limits', params, Boolean(o.all));
      if (g.json) return printJson(io, page);
      const cell = (v: number | null) => (v === null ? '-' : grouped(v));
      printTable(io, ['KIND', 'TARGET', 'REQUESTS/MIN', 'TOKENS/MIN', 'TOKENS/DAY', 'TOKENS/MONTH', 'UPDATED'],
        page.items.map((l) => [l.target.kind, targetText(l), cell(l.requests_per_minute), cell(l.tokens_per_minute), cell(l.tokens_per_day), cell(l.tokens_per_month), l.updated_at]));
      if (page.next_cursor) io.stdout.write(`more: --cursor ${page.next_cursor}\n`);
    }));

  limit.command('show').description('show the limit on a principal, team or resource, with what this server counted in the current windows')
    .addArgument(kindArgument())
    .addArgument(refArgument())
    .addHelpText('after', examples('custos limit show principal support-bot', 'custos --json limit show team ml'))
    .action(withClient(io, async (client, g, kind: string, ref: string) => {
      const l = await client.request<LimitWithUsageView>('GET', limitPath(kind, ref));
      if (g.json) return printJson(io, l);
      printRecord(io, {
        id: l.id, target: `${l.target.kind} ${targetText(l)} (${l.target.id})`,
        ...Object.fromEntries(METRICS.map((m) => [m, l[m] === null ? '-' : grouped(l[m]!)])),
        ...Object.fromEntries(l.usage.map((u) => [`used ${SHORT[u.metric]}`, `${grouped(u.used)} of ${grouped(u.limit)} (${Math.floor((100 * u.used) / u.limit)}%), resets at ${u.resets_at}`])),
        updated_at: l.updated_at, updated_by: l.updated_by,
      });
    }));

  limit.command('remove').description('remove the limit on a principal, team or resource; applies to the next call (admins, security)')
    .addArgument(kindArgument())
    .addArgument(refArgument())
    .requiredOption('--reason <text>', 'why (recorded in the audit log)')
    .addHelpText('after', examples('custos limit remove principal support-bot --reason "pilot over"'))
    .action(withClient(io, async (client, g, kind: string, ref: string, o) => {
      await client.request('DELETE', `${limitPath(kind, ref)}?reason=${encodeURIComponent(o.reason)}`);
      if (g.json) return printJson(io, { removed: { kind, ref } });
      io.stdout.write(`removed the limit on ${kind} '${sanitizeCell(ref)}' (applies to the next call)\n`);
    }));
}

function toCamel(metric: Metric): string {
  return metric.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}
