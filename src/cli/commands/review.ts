import { Argument, Command, InvalidArgumentError, Option } from 'commander';
import type { CampaignView, ItemView } from '../../approvals/reviews/reviews.schemas.js';
import { DEFAULT_DUE_DAYS, ITEM_STATUSES, REVIEW_DECISIONS } from '../../approvals/reviews/reviews.js';
import { RISK_TIERS } from '../../identity/index.js';
import { CliError } from '../client.js';
import { defined, examples, fetchPages, integerIn, pageOptions, splitList, withClient } from '../common.js';
import { printJson, printRecord, printTable, type CliIo } from '../output.js';

// `custos review`: access reviews (recertification, /v1/review-campaigns and /v1/review-items). A campaign sends
// each active non-human principal in scope to its owner, its owning team or (orphans) security; the reviewer keeps,
// reduces or revokes what it holds. Undecided items are reminded once when overdue and lapse after the grace
// period (high and critical principals are then suspended). `status` is the progress board; the server also starts
// campaigns by itself for principals whose review date has passed (`scheduled-YYYY-MM-DD`).

const TIERS = new Set<string>(RISK_TIERS);

/** `--tier` (repeatable, or separated by commas): risk tiers only, checked before any request. */
export function collectTiers(value: string, previous: string[] = []): string[] {
  const given = splitList(value);
  const wrong = given.filter((t) => !TIERS.has(t));
  if (given.length === 0 || wrong.length) throw new InvalidArgumentError(`--tier takes risk tiers (${RISK_TIERS.join(', ')})${wrong.length ? `; not ${wrong.map((w) => `'${w}'`).join(', ')}` : ''}`);
  return [...previous, ...given];
}

/** A list flag whose empty value means "none" (`--scope ''` keeps no scope), so it is kept apart from "not given". */
const collectList = (value: string, previous: string[] = []) => [...previous, ...splitList(value)];

const reasonRequired = ['--reason <text>', 'why (required; kept with the item and in the audit log)'] as const;

function who(i: ItemView): string {
  return i.reviewer?.name ?? (i.reviewer_team ? `team ${i.reviewer_team.name}` : '(admin/security)');
}

function decidedLine(i: ItemView): string {
  const a = (i.applied ?? {}) as { scopes?: { after: string[] }; purposes?: { after: string[] }; grants_revoked?: unknown[]; suspended?: boolean; next_review_due_at?: string | null };
  const parts: string[] = [`${i.status} '${i.principal.name}'`];
  if (a.scopes) parts.push(`scopes now ${a.scopes.after.join(', ') || '(none)'}`);
  if (a.purposes) parts.push(`purposes now ${a.purposes.after.join(', ') || '(none)'}`);
  if (a.grants_revoked?.length) parts.push(`${a.grants_revoked.length} grant${a.grants_revoked.length === 1 ? '' : 's'} revoked`);
  if (a.suspended) parts.push('principal suspended');
  if (a.next_review_due_at) parts.push(`next review due ${a.next_review_due_at}`);
  return parts.join('; ');
}

export function registerReviewCommands(program: Command, io: CliIo): void {
  const review = program.command('review').description('access reviews: owners recertify what their principals hold (keep, reduce or revoke); unreviewed high and critical principals are suspended')
    .addHelpText('after', examples(
      'custos review status',
      'custos review start q3-recertification --tier high,critical',
      'custos review list --mine --status pending',
      'custos review decide 0190a6f0-… reduce --scope model:invoke --revoke-grant 0190a6f1-… --reason "no longer exports"',
    ));

  review.command('start <name>').description('start a campaign: one item per active non-human principal in scope, sent to its owner, owning team or security (admin, security)')
    .option('--tier <tier>', `only these risk tiers (${RISK_TIERS.join(', ')}); repeat or separate with commas (default: all)`, collectTiers)
    .option('--principal <principal>', 'only these principals (ids or names); repeat or separate with commas (then every one named, due or not)', collectList)
    .addOption(new Option('--all-principals', 'every principal in scope, not only those whose review falls due by the campaign\'s due date').conflicts('dueOnly'))
    .option('--due-only', 'only principals whose review falls due by the campaign\'s due date (the default without --principal)')
    .addOption(new Option('--due-in <days>', `days reviewers have before items are overdue (1-365, default ${DEFAULT_DUE_DAYS}); the grace period follows`).argParser(integerIn('--due-in', 1, 365)))
    .addHelpText('after', examples(
      'custos review start q3-recertification',
      'custos review start payments-agents --tier high,critical --due-in 7',
      'custos review start support-bot-now --principal support-bot',
    ))
    .action(withClient(io, async (client, g, name: string, o) => {
      const dueOnly = o.allPrincipals ? false : o.dueOnly ? true : undefined;
      const c = await client.request<CampaignView & { already_in_review: number }>('POST', '/v1/review-campaigns', defined({
        name, tiers: o.tier as string[] | undefined, principals: o.principal as string[] | undefined, due_only: dueOnly, due_in_days: o.dueIn as number | undefined,
      }));
      if (g.json) return printJson(io, c);
      const n = c.progress.total;
      io.stdout.write(`started campaign '${c.name}' (${c.id}): ${n} item${n === 1 ? '' : 's'}, due ${c.due_at}, undecided items lapse after ${c.grace_until}`
        + `${c.already_in_review ? `; ${c.already_in_review} already in an open review` : ''}${c.status === 'closed' ? '; nothing to review, closed' : ''}\n`);
    }));

  pageOptions(review.command('list').description('list review items (owners see only the items sent to them or their teams)')
    .option('--mine', 'only items sent to me or to one of my teams')
    .option('--campaign <id>', 'only items of this campaign')
    .addOption(new Option('--status <status>', 'only this status').choices([...ITEM_STATUSES]))
    .option('--principal <id>', 'only items about this principal (id)')
    .addHelpText('after', examples('custos review list --mine --status pending', 'custos review list --campaign 0190a6f0-… --all --json')))
    .action(withClient(io, async (client, g, o) => {
      const params = new URLSearchParams(defined({ campaign: o.campaign, status: o.status, principal: o.principal, mine: o.mine ? 'true' : undefined, limit: o.limit, cursor: o.cursor }) as Record<string, string>);
      const page = await fetchPages<ItemView>(client, '/v1/review-items', params, Boolean(o.all));
      if (g.json) return printJson(io, page);
      printTable(io, ['ID', 'CAMPAIGN', 'PRINCIPAL', 'TIER', 'REVIEWER', 'STATUS', 'DUE', 'GRANTS'],
        page.items.map((i) => [i.id, i.campaign.name, i.principal.name, i.principal.risk_tier, `${who(i)}${i.orphaned ? ' (orphaned)' : ''}`,
          i.status === 'pending' && i.overdue ? 'pending (overdue)' : i.status, i.due_at, i.snapshot.grants.length]));
      if (page.next_cursor) io.stdout.write(`more: --cursor ${page.next_cursor}\n`);
    }));

  review.command('show <item>').description('show a review item: what the principal held, who reviews it, what was decided')
    .addHelpText('after', examples('custos review show 0190a6f0-…'))
    .action(withClient(io, async (client, g, id: string) => {
      const i = await client.request<ItemView>('GET', `/v1/review-items/${encodeURIComponent(id)}`);
      if (g.json) return printJson(io, i);
      printRecord(io, {
        id: i.id, campaign: i.campaign.name, principal: `${i.principal.name} (${i.principal.kind}, ${i.principal.risk_tier})`,
        reviewer: who(i), orphaned: i.orphaned ? `yes (${i.route_reason})` : 'no', status: i.status === 'pending' && i.overdue ? 'pending (overdue)' : i.status,
        due_at: i.due_at, lapses_after: i.grace_until, scopes: i.snapshot.scopes.join(', ') || '(none)', purposes: i.snapshot.purposes.join(', ') || '(none)',
        grants: i.snapshot.grants.map((x) => `${x.id} ${x.actions.join(',')} on ${x.resource.name}${x.purpose ? ` for ${x.purpose}` : ''} until ${x.expires_at}`).join('; ') || '(none)',
        ...(i.status !== 'pending' ? { decided_by: i.decided_by?.name ?? '(lapsed)', decided_at: i.decided_at, reason: i.decision_reason, applied: i.applied } : {}),
      });
    }));

  review.command('decide').description('decide an item: keep (recertify), reduce (keep less) or revoke (end every grant and suspend); the reviewer, admin or security')
    .addArgument(new Argument('<item>', 'the review item id'))
    .addArgument(new Argument('<decision>', 'keep, reduce or revoke').choices([...REVIEW_DECISIONS]))
    .option('--scope <scope>', 'reduce: a scope to keep (repeat or separate with commas; --scope \'\' keeps none)', collectList)
    .option('--purpose <purpose>', 'reduce: a purpose to keep (repeat or separate with commas; --purpose \'\' keeps none)', collectList)
    .option('--revoke-grant <id>', 'reduce: a standing grant to revoke (repeat or separate with commas)', collectList)
    .requiredOption(...reasonRequired)
    .addHelpText('after', examples(
      'custos review decide 0190a6f0-… keep --reason "still answers tickets"',
      'custos review decide 0190a6f0-… reduce --scope model:invoke --purpose customer-support --reason "research finished"',
      'custos review decide 0190a6f0-… revoke --reason "project ended"',
    ))
    .action(withClient(io, async (client, g, id: string, decision: string, o) => {
      if (decision !== 'reduce' && (o.scope || o.purpose || o.revokeGrant)) throw new CliError('--scope, --purpose and --revoke-grant go with reduce only', 2);
      const i = await client.request<ItemView>('POST', `/v1/review-items/${encodeURIComponent(id)}/decision`, defined({
        decision, scopes: o.scope as string[] | undefined, purposes: o.purpose as string[] | undefined, revoke_grants: o.revokeGrant as string[] | undefined, reason: o.reason,
      }));
      if (g.json) printJson(io, i); else io.stdout.write(`item ${i.id}: ${decidedLine(i)}\n`);
    }));

  review.command('status').description('progress of each open campaign: items decided by outcome, pending, overdue, lapsed')
    .option('--closed', 'closed campaigns too')
    .option('--campaign <id>', 'only this campaign (open or closed)')
    .addHelpText('after', examples('custos review status', 'custos review status --closed --json'))
    .action(withClient(io, async (client, g, o) => {
      const campaigns = o.campaign
        ? [await client.request<CampaignView>('GET', `/v1/review-campaigns/${encodeURIComponent(o.campaign as string)}`)]
        : (await fetchPages<CampaignView>(client, '/v1/review-campaigns', new URLSearchParams(defined({ status: o.closed ? undefined : 'open', limit: '500' }) as Record<string, string>), true)).items;
      if (g.json) return printJson(io, { items: campaigns });
      printTable(io, ['CAMPAIGN', 'ID', 'STATUS', 'TOTAL', 'KEPT', 'REDUCED', 'REVOKED', 'PENDING', 'OVERDUE', 'LAPSED', 'DUE'],
        campaigns.map((c) => [c.name, c.id, c.status, c.progress.total, c.progress.kept, c.progress.reduced, c.progress.revoked, c.progress.pending, c.progress.overdue, c.progress.lapsed, c.due_at]));
    }));
}
