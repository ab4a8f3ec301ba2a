import { Command, InvalidArgumentError, Option } from 'commander';
import type { RequestView } from '../../approvals/requests/requests.schemas.js';
import { CliError } from '../client.js';
import { collect, defined, examples, fetchPages, pageOptions, withClient } from '../common.js';
import { printJson, printRecord, printTable, type CliIo } from '../output.js';
import { collectAssetActions, durationSeconds } from './grant.js';

// `custos request`: access requests (/v1/access-requests). People file them for themselves or for principals they
// own (an agent files for itself with its own credential); other people decide them under the approval rule of the
// riskiest resource. An approval is bound to the request's hash: `approve` sends the hash of the revision it shows
// (or the one given with --hash, from an earlier `request show`), so an edit in between makes the server refuse it.

const HASH = /^[0-9a-f]{64}$/;

function hashOption(value: string): string {
  if (!HASH.test(value)) throw new InvalidArgumentError('--hash takes the 64 hex digits `custos request show` printed');
  return value;
}

function requestDuration(value: string): number {
  const n = durationSeconds(value);
  if (n < 60) throw new InvalidArgumentError('--for must be at least 60 seconds');
  return n;
}

function whatLine(r: RequestView): string {
  if (r.kind === 'registration') return `registration of '${r.subject.name}'`;
  return `'${r.subject.name}' ${r.actions.join(', ')} on ${r.resources.map((x) => `'${x.name}'`).join(', ')}${r.purpose ? ` for ${r.purpose}` : ''}`;
}

function statusLine(r: RequestView): string {
  if (r.status === 'pending') return `pending (${r.tier}): needs ${r.needs.length ? r.needs.join(' + ') : 'nothing more'}`;
  return `${r.status}${r.grant_ids.length ? ` → grant ${r.grant_ids.join(', ')}` : ''}`;
}

export function registerRequestCommands(program: Command, io: CliIo): void {
  const request = program.command('request').description('access requests: ask for time-bound access (or a registration); other people approve under the risk tier\'s rule')
    .addHelpText('after', examples(
      'custos request create support-bot --resource tickets --action read --purpose customer-support --for 8h --justification "INC-42 triage"',
      'custos request list --status pending',
      'custos request approve 0190a6f0-… --comment "ok for INC-42"',
    ));

  request.command('create [subject]').description('file a request for yourself, a principal you own, or (with an agent\'s credential) for the agent itself')
    .option('--resource <resource>', 'a resource (id or name); repeat for several', collect)
    .option('--action <action>', 'asset action wanted; repeat or separate with commas', collectAssetActions)
    .option('--purpose <purpose>', 'the purpose (one the subject and every resource allow)')
    .option('--for <duration>', 'how long once approved: 3600, 15m, 8h or 7d (capped by the risk tier)', requestDuration)
    .addOption(new Option('--register', 'a registration request: activates a proposed high or critical risk principal once approved').conflicts(['resource', 'action', 'purpose', 'for']))
    .requiredOption('--justification <text>', 'why (required; shown to approvers and audited)')
    .option('--ticket <ref>', 'a change or incident ticket')
    .addHelpText('after', examples(
      'custos request create support-bot --resource tickets --action read --purpose customer-support --for 8h --justification "INC-42 triage"',
      'custos request create fraud-agent --register --justification "new fraud-detection agent, design doc FD-3"',
    ))
    .action(withClient(io, async (client, g, subject: string | undefined, o) => {
      if (!o.register && (!o.resource || !o.action || !o.purpose || o.for === undefined)) {
        throw new CliError('an access request needs --resource, --action, --purpose and --for (or --register for a registration)', 2);
      }
      const created = await client.request<RequestView>('POST', '/v1/access-requests', defined({
        kind: o.register ? 'registration' : 'access', subject, resources: o.resource as string[] | undefined, actions: o.action as string[] | undefined,
        purpose: o.purpose, duration_seconds: o.for as number | undefined, justification: o.justification, ticket: o.ticket,
      }));
      if (g.json) return printJson(io, created);
      io.stdout.write(`request ${created.id}: ${whatLine(created)} — ${statusLine(created)}\n`);
    }));

  pageOptions(request.command('list').description('list requests')
    .addOption(new Option('--status <status>', 'only this status').choices(['pending', 'approved', 'denied', 'cancelled', 'expired']))
    .addOption(new Option('--kind <kind>', 'only this kind').choices(['access', 'registration', 'break_glass']))
    .option('--subject <principal>', 'only requests for this principal')
    .option('--mine', 'only requests I filed or answer for')
    .addHelpText('after', examples('custos request list --status pending', 'custos request list --mine --json')))
    .action(withClient(io, async (client, g, o) => {
      const params = new URLSearchParams(defined({ status: o.status, kind: o.kind, subject: o.subject, mine: o.mine ? 'true' : undefined, limit: o.limit, cursor: o.cursor }) as Record<string, string>);
      const page = await fetchPages<RequestView>(client, '/v1/access-requests', params, Boolean(o.all));
      if (g.json) return printJson(io, page);
      printTable(io, ['ID', 'STATUS', 'TIER', 'REQUESTER', 'SUBJECT', 'WHAT', 'NEEDS'],
        page.items.map((r) => [r.id, r.status, r.tier, r.requester.name, r.subject.name, r.kind === 'registration' ? 'registration' : `${r.actions.join(',')} on ${r.resources.map((x) => x.name).join(',')}`, r.needs.join(' + ')]));
      if (page.next_cursor) io.stdout.write(`more: --cursor ${page.next_cursor}\n`);
    }));

  request.command('show <id>').description('show a request: its rule, approvals, what it still needs, and the hash approvers decide on')
    .addHelpText('after', examples('custos request show 0190a6f0-…', 'custos --json request show 0190a6f0-…'))
    .action(withClient(io, async (client, g, id: string) => {
      const r = await client.request<RequestView>('GET', `/v1/access-requests/${encodeURIComponent(id)}`);
      if (g.json) return printJson(io, r);
      printRecord(io, {
        id: r.id, kind: r.kind, status: statusLine(r), requester: r.requester.name, accountable: r.accountable?.name ?? null, subject: `${r.subject.name} (${r.subject.kind})`,
        what: whatLine(r), duration_seconds: r.kind === 'access' ? r.duration_seconds : null, justification: r.justification, ticket: r.ticket,
        rule: `${r.tier}: ${r.requirement.auto_approve ? 'auto-approved' : r.requirement.slots.join(' + ')}${r.requirement.owner_not_sole ? ' (not the subject\'s owner alone)' : ''}`,
        approvals: r.approvals.map((a) => `${a.approver.name} ${a.decision}${a.counts ? '' : ' (earlier revision)'}${a.comment ? `: ${a.comment}` : ''}`).join('; ') || null,
        ...(r.status === 'pending' ? { pending_until: r.pending_until } : { decided_at: r.decided_at, decision_reason: r.decision_reason }),
        revision: r.revision, request_hash: r.request_hash,
      });
    }));

  const decideCommand = (verb: 'approve' | 'deny') => request.command(`${verb} <id>`)
    .description(verb === 'approve' ? 'approve the request as it is now (or the revision --hash names)' : 'deny the request, with a reason')
    .option('--hash <hash>', 'the request_hash you reviewed (`custos request show`); refused if the request changed since', hashOption)
    .action(withClient(io, async (client, g, id: string, o) => {
      const path = `/v1/access-requests/${encodeURIComponent(id)}`;
      const hash = (o.hash as string | undefined) ?? (await client.request<RequestView>('GET', path)).request_hash;
      const body = verb === 'approve' ? defined({ request_hash: hash, comment: o.comment }) : { request_hash: hash, reason: o.reason };
      const r = await client.request<RequestView>('POST', `${path}/${verb}`, body);
      if (g.json) return printJson(io, r);
      io.stdout.write(`${verb === 'approve' ? 'approved' : 'denied'} revision ${r.revision} of ${r.id} (${whatLine(r)}): ${statusLine(r)}\n`);
    }));
  decideCommand('approve').option('--comment <text>', 'a note kept with your approval')
    .addHelpText('after', examples('custos request approve 0190a6f0-…', 'custos request approve 0190a6f0-… --hash 3f2a…'));
  decideCommand('deny').requiredOption('--reason <text>', 'why (required)')
    .addHelpText('after', examples('custos request deny 0190a6f0-… --reason "use the sandbox copy"'));

  request.command('cancel <id>').description('cancel a pending request (the requester)')
    .option('--reason <text>', 'why')
    .addHelpText('after', examples('custos request cancel 0190a6f0-… --reason "no longer needed"'))
    .action(withClient(io, async (client, g, id: string, o) => {
      const r = await client.request<RequestView>('POST', `/v1/access-requests/${encodeURIComponent(id)}/cancel`, defined({ reason: o.reason }));
      if (g.json) printJson(io, r); else io.stdout.write(`cancelled ${r.id}\n`);
    }));
}
