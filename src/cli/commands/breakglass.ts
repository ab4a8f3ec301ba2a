import { Command, InvalidArgumentError, Option } from 'commander';
import { MIN_BREAK_GLASS_SECONDS, MIN_JUSTIFICATION_CHARS } from '../../approvals/break-glass/break-glass.js';
import { defined, examples, fetchPages, pageOptions, withClient } from '../common.js';
import { printJson, printRecord, printTable, type CliIo } from '../output.js';
import { collectAssetActions, durationSeconds } from './grant.js';

// `custos breakglass`: emergency access without prior approval (/v1/break-glass). A member of the break-glass team
// opens access for themselves at once, for at most the configured maximum (default one hour), with a justification;
// security and the approvers it skipped are told, and a post-incident review opens that someone else (admin or
// security) closes with a finding. The user may end the access early; the review stays open.

interface Ref { id: string; name: string }
interface BreakGlassView {
  id: string;
  user: Ref;
  resource: Ref & { kind: string; risk_tier: string; classification: string };
  actions: string[];
  purpose: string | null;
  justification: string;
  ticket: string | null;
  duration_seconds: number;
  tier: string;
  skipped: { rule: { auto_approve: boolean; slots: string[] }; approvers: Array<{ group: string; people: Ref[] | 'anyone' }> };
  notified: Ref[];
  opened_at: string;
  expires_at: string;
  grant: { id: string; status: 'active' | 'ended'; expires_at: string };
  review: { status: 'open' | 'closed'; finding: string | null; closed_by: Ref | null; closed_at: string | null };
}

/** The longest break-glass the server could allow (its setting's own ceiling); the configured maximum is the server's. */
const CEILING_SECONDS = 86_400;

/** `--for`: a duration from 60 s to one day, checked before any request (the server holds it to its maximum). */
export function breakGlassFor(value: string): number {
  const n = durationSeconds(value);
  if (n < MIN_BREAK_GLASS_SECONDS || n > CEILING_SECONDS) {
    throw new InvalidArgumentError(`--for must be from ${MIN_BREAK_GLASS_SECONDS} seconds to the configured maximum (default 1h, never more than 24h)`);
  }
  return n;
}

/** `--justification`: what the emergency is, at least MIN_JUSTIFICATION_CHARS characters, checked before any request. */
export function justification(value: string): string {
  if (value.trim().length < MIN_JUSTIFICATION_CHARS) {
    throw new InvalidArgumentError(`--justification must say what the emergency is, in at least ${MIN_JUSTIFICATION_CHARS} characters`);
  }
  return value;
}

const names = (people: Ref[]) => (people.length ? people.map((p) => p.name).join(', ') : '(nobody)');
const skippedText = (x: BreakGlassView) => x.skipped.approvers.length
  ? x.skipped.approvers.map((s) => `${s.group}: ${s.people === 'anyone' ? 'any approver' : names(s.people)}`).join('; ')
  : `(none: ${x.tier} is auto-approved)`;

export function registerBreakGlassCommands(program: Command, io: CliIo): void {
  const bg = program.command('breakglass').description('emergency access without prior approval for the break-glass team, and its post-incident review')
    .addHelpText('after', examples(
      'custos breakglass open prod-model --action read,invoke --for 30m --justification "INC-42: serving errors for every customer" --ticket INC-42',
      'custos breakglass list --open',
      'custos breakglass close 0190a6f0-… --finding "needed for INC-42; used as justified"',
    ));

  bg.command('open <resource>').description('open break-glass access for yourself at once (members of the break-glass team; security and the skipped approvers are told)')
    .requiredOption('--action <action>', 'asset action needed (invoke, read, write, …); repeat or separate with commas', collectAssetActions)
    .requiredOption('--justification <text>', `what the emergency is and why it cannot wait for an approval (at least ${MIN_JUSTIFICATION_CHARS} characters; recorded and sent to security)`, justification)
    .addOption(new Option('--for <duration>', 'how long: 3600, 90s, 15m or 1h (at least 60 s, at most the configured maximum, which is also the default)').argParser(breakGlassFor))
    .option('--purpose <purpose>', 'only for this purpose: one you and the resource both allow (default: any purpose)')
    .option('--ticket <ref>', 'the incident or ticket reference')
    .addHelpText('after', examples(
      'custos breakglass open prod-model --action read,invoke --for 30m --justification "INC-42: serving errors for every customer" --ticket INC-42',
    ))
    .action(withClient(io, async (client, g, resource: string, o) => {
      const x = await client.request<BreakGlassView>('POST', '/v1/break-glass', defined({
        resource, actions: o.action as string[], justification: o.justification as string, duration_seconds: o.for as number | undefined,
        purpose: o.purpose as string | undefined, ticket: o.ticket as string | undefined,
      }));
      if (g.json) return printJson(io, x);
      io.stdout.write(`break-glass open: you may ${x.actions.join(', ')} on '${x.resource.name}'${x.purpose ? ` for ${x.purpose}` : ''} until ${x.expires_at} (${x.id})\n`);
      io.stdout.write(`notified: ${names(x.notified)}; the post-incident review stays open until someone else closes it\n`);
    }));

  pageOptions(bg.command('list').description('list break-glass accesses and their reviews (owner-role operators: their own)')
    .addOption(new Option('--open', 'only accesses whose review is still open').conflicts('closed'))
    .option('--closed', 'only accesses whose review is closed')
    .option('--user <person>', 'only accesses this person opened (id or name)')
    .addHelpText('after', examples('custos breakglass list --open', 'custos breakglass list --user oncall-olga --all')))
    .action(withClient(io, async (client, g, o) => {
      const review = o.open ? 'open' : o.closed ? 'closed' : undefined;
      const params = new URLSearchParams(defined({ review, user: o.user, limit: o.limit, cursor: o.cursor }) as Record<string, string>);
      const page = await fetchPages<BreakGlassView>(client, '/v1/break-glass', params, Boolean(o.all));
      if (g.json) return printJson(io, page);
      printTable(io, ['ID', 'USER', 'RESOURCE', 'ACTIONS', 'OPENED', 'ACCESS', 'REVIEW'],
        page.items.map((x) => [x.id, x.user.name, x.resource.name, x.actions.join(','), x.opened_at, x.grant.status, x.review.status]));
      if (page.next_cursor) io.stdout.write(`more: --cursor ${page.next_cursor}\n`);
    }));

  bg.command('show <id>').description('show a break-glass access: what, why, whom it skipped and told, its grant and its review')
    .addHelpText('after', examples('custos breakglass show 0190a6f0-…'))
    .action(withClient(io, async (client, g, id: string) => {
      const x = await client.request<BreakGlassView>('GET', `/v1/break-glass/${encodeURIComponent(id)}`);
      if (g.json) return printJson(io, x);
      printRecord(io, {
        id: x.id, user: x.user.name, resource: `${x.resource.name} (${x.resource.kind}, ${x.tier})`, actions: x.actions.join(', '),
        purpose: x.purpose ?? '(any)', justification: x.justification, ticket: x.ticket, opened_at: x.opened_at, expires_at: x.expires_at,
        access: `${x.grant.status} (grant ${x.grant.id})`, skipped: skippedText(x), notified: names(x.notified), review: x.review.status,
        ...(x.review.status === 'closed' ? { finding: x.review.finding, closed_by: x.review.closed_by?.name ?? null, closed_at: x.review.closed_at } : {}),
      });
    }));

  bg.command('close <id>').description('close the post-incident review with a finding (admin, security; never the person who used the access)')
    .requiredOption('--finding <text>', 'what the review found: was the access needed, was it used as justified, what follows (at least 10 characters)')
    .addHelpText('after', examples('custos breakglass close 0190a6f0-… --finding "needed for INC-42; used as justified; runbook updated"'))
    .action(withClient(io, async (client, g, id: string, o) => {
      const x = await client.request<BreakGlassView>('POST', `/v1/break-glass/${encodeURIComponent(id)}/close`, { finding: o.finding as string });
      if (g.json) printJson(io, x); else io.stdout.write(`closed the review of ${x.id}: '${x.user.name}' on '${x.resource.name}'\n`);
    }));

  bg.command('end <id>').description('give break-glass access up early: its grant is revoked at once; the review stays open (the user, admin, security)')
    .requiredOption('--reason <text>', 'why (required; recorded in the audit log)')
    .addHelpText('after', examples('custos breakglass end 0190a6f0-… --reason "INC-42 resolved"'))
    .action(withClient(io, async (client, g, id: string, o) => {
      const x = await client.request<BreakGlassView>('POST', `/v1/break-glass/${encodeURIComponent(id)}/end`, { reason: o.reason as string });
      if (g.json) printJson(io, x); else io.stdout.write(`ended break-glass access ${x.id}: '${x.user.name}' on '${x.resource.name}'; the review stays open\n`);
    }));
}
