import fs from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { NOTIFICATION_TYPES } from '../../approvals/notifications.js';
import type { DeliveryView, WebhookView } from '../../approvals/webhooks/webhooks.schemas.js';
import { MAX_SECRET_LENGTH, MIN_SECRET_LENGTH, SECRET_PATTERN } from '../../approvals/webhooks/delivery-rules.js';
import { CliError } from '../client.js';
import { defined, examples, fetchPages, pageOptions, splitList, withClient } from '../common.js';
import { printJson, printRecord, printTable, type CliIo } from '../output.js';

// `custos webhook`: signed notifications of approvals events (requests, grants revoked, break-glass, reviews) to
// other systems, and their delivery log (/v1/webhooks). Admins add, change, test and remove webhooks; admins and
// security list them and read deliveries. The secret receivers verify with is printed once, alone on stdout (the
// note goes to stderr), so it can be piped into a secret store; a secret of your own is read from a file, never
// from the command line (shell history, process lists). Docs: docs/webhooks.md.

const EVENT_TYPES = new Set<string>(NOTIFICATION_TYPES);

/** `--event` (repeatable, or separated by commas): approvals event types only, checked before any request. */
export function collectEvents(value: string, previous: string[] = []): string[] {
  const given = splitList(value);
  const wrong = given.filter((t) => !EVENT_TYPES.has(t));
  if (given.length === 0 || wrong.length) {
    throw new InvalidArgumentError(`--event takes event types (${NOTIFICATION_TYPES.join(', ')})${wrong.length ? `; not ${wrong.map((w) => `'${w}'`).join(', ')}` : ''}`);
  }
  return [...previous, ...given];
}

/** `--secret-file`: the secret in a file (a trailing newline is dropped), checked before any request. */
export function readSecretFile(file: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read --secret-file '${file}': ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 2);
  }
  const secret = text.replace(/\r?\n$/, '');
  if (secret.length < MIN_SECRET_LENGTH || secret.length > MAX_SECRET_LENGTH || !SECRET_PATTERN.test(secret)) {
    throw new CliError(`the secret in '${file}' must be ${MIN_SECRET_LENGTH}-${MAX_SECRET_LENGTH} printable characters without spaces`, 2);
  }
  return secret;
}

const reasonOption = ['--reason <text>', 'why (recorded in the audit log)'] as const;
const formatOption = () => new Option('--format <format>', 'json: {id, type, time, data, recipients}; slack: a Slack incoming-webhook message').choices(['json', 'slack']);
const eventOption = () => new Option('--event <type>', `deliver only these event types (${NOTIFICATION_TYPES.join(', ')}); repeat or separate with commas`).argParser(collectEvents);

function events(w: WebhookView): string {
  return w.events.length === 0 ? 'all' : w.events.join(',');
}

function printSecretOnce(io: CliIo, w: WebhookView & { secret: string }, what: string): void {
  io.stdout.write(`${w.secret}\n`);
  io.stderr.write(`${what} '${w.name}' (${w.url}, events: ${events(w)}, format ${w.format}). The secret above is shown only this once: receivers verify Custos-Signature with it.\n`);
}

function outcome(d: DeliveryView): string {
  if (d.status === 'delivered') return `delivered (${d.last_status}) after ${d.attempts} attempt${d.attempts === 1 ? '' : 's'}`;
  const why = d.last_error ?? (d.last_status !== null ? `answered ${d.last_status}` : 'no answer');
  return d.status === 'dead' ? `dead after ${d.attempts} attempts: ${why}` : `not delivered yet (${why}); next attempt at ${d.next_attempt_at}`;
}

export function registerWebhookCommands(program: Command, io: CliIo): void {
  const webhook = program.command('webhook').description('signed notifications of approvals events to other systems, and their delivery log (admins change; admin/security read)')
    .addHelpText('after', examples(
      'custos webhook add siem --url https://siem.example.com/custos --event request.created,break_glass.used > siem.secret',
      'custos webhook test siem',
      'custos webhook deliveries siem --status dead',
    ));

  webhook.command('add <name>').description('subscribe a receiver to approvals events; prints its signing secret once (admins)')
    .requiredOption('--url <url>', 'where deliveries are POSTed: https, or plain http only to 127.0.0.0/8, [::1] or localhost')
    .addOption(eventOption())
    .addOption(formatOption().default('json'))
    .option('--secret-file <file>', `read the signing secret from this file ('-': stdin), ${MIN_SECRET_LENGTH}-${MAX_SECRET_LENGTH} printable characters; default: a random one`)
    .option('--disabled', 'add it switched off (nothing is queued for it until it is enabled)')
    .option(...reasonOption)
    .addHelpText('after', examples(
      'custos webhook add siem --url https://siem.example.com/custos > siem.secret',
      'custos webhook add approvers --url https://hooks.slack.com/services/T0/B0/XXXX --format slack --event request.created,review.due',
    ))
    .action(withClient(io, async (client, g, name: string, o) => {
      const secret = o.secretFile !== undefined ? readSecretFile(o.secretFile) : undefined;
      const w = await client.request<WebhookView & { secret: string }>('POST', '/v1/webhooks', defined({
        name, url: o.url, events: o.event as string[] | undefined, format: o.format, secret, enabled: o.disabled ? false : undefined, reason: o.reason,
      }));
      if (g.json) return printJson(io, w);
      printSecretOnce(io, w, 'webhook');
    }));

  pageOptions(webhook.command('list').description('list webhooks with what is pending and dead (never their secrets)')
    .addHelpText('after', examples('custos webhook list', 'custos --json webhook list --all')))
    .action(withClient(io, async (client, g, o) => {
      const params = new URLSearchParams(defined({ limit: o.limit, cursor: o.cursor }) as Record<string, string>);
      const page = await fetchPages<WebhookView>(client, '/v1/webhooks', params, Boolean(o.all));
      if (g.json) return printJson(io, page);
      printTable(io, ['NAME', 'URL', 'EVENTS', 'FORMAT', 'ENABLED', 'PENDING', 'DEAD'],
        page.items.map((w) => [w.name, w.url, events(w), w.format, w.enabled ? 'yes' : 'no', w.deliveries.pending, w.deliveries.dead]));
      if (page.next_cursor) io.stdout.write(`more: --cursor ${page.next_cursor}\n`);
    }));

  webhook.command('show <name>').description('show a webhook (never its secret)')
    .addHelpText('after', examples('custos webhook show siem'))
    .action(withClient(io, async (client, g, name: string) => {
      const w = await client.request<WebhookView>('GET', `/v1/webhooks/${encodeURIComponent(name)}`);
      if (g.json) return printJson(io, w);
      printRecord(io, { ...w, events: events(w), enabled: w.enabled ? 'yes' : 'no', deliveries: `${w.deliveries.pending} pending, ${w.deliveries.dead} dead` });
    }));

  webhook.command('update <name>').description('change a webhook\'s URL, events, format or state, or give it a new secret (admins)')
    .option('--url <url>', 'a new URL (same rule as add)')
    .addOption(eventOption().conflicts('allEvents'))
    .option('--all-events', 'deliver every event type')
    .addOption(formatOption())
    .addOption(new Option('--enable', 'switch it on (what waited is delivered)').conflicts('disable'))
    .option('--disable', 'switch it off: nothing is queued for it and what is queued waits')
    .addOption(new Option('--rotate-secret', 'generate a new signing secret (printed once)').conflicts('secretFile'))
    .option('--secret-file <file>', 'take the new signing secret from this file (\'-\': stdin)')
    .option(...reasonOption)
    .addHelpText('after', examples('custos webhook update siem --event request.created --event grant.revoked', 'custos webhook update siem --rotate-secret > siem.secret', 'custos webhook update siem --disable --reason "SIEM maintenance"'))
    .action(withClient(io, async (client, g, name: string, o) => {
      const secret = o.secretFile !== undefined ? readSecretFile(o.secretFile) : undefined;
      const body = defined({
        url: o.url, events: o.allEvents ? [] : (o.event as string[] | undefined), format: o.format,
        enabled: o.enable ? true : o.disable ? false : undefined, secret, rotate_secret: o.rotateSecret ? true : undefined, reason: o.reason,
      });
      if (Object.keys(body).filter((k) => k !== 'reason').length === 0) throw new CliError('nothing to change: give --url, --event, --all-events, --format, --enable, --disable, --rotate-secret or --secret-file', 2);
      const w = await client.request<WebhookView & { secret?: string }>('PATCH', `/v1/webhooks/${encodeURIComponent(name)}`, body);
      if (g.json) return printJson(io, w);
      if (w.secret !== undefined) return printSecretOnce(io, w as WebhookView & { secret: string }, 'new secret for webhook');
      io.stdout.write(`updated webhook '${w.name}': ${w.url}, events: ${events(w)}, format ${w.format}, ${w.enabled ? 'enabled' : 'disabled'}\n`);
    }));

  webhook.command('remove <name>').description('remove a webhook and its delivery log (admins)')
    .option(...reasonOption)
    .addHelpText('after', examples('custos webhook remove siem --reason "replaced by the new SIEM"'))
    .action(withClient(io, async (client, g, name: string, o) => {
      const q = o.reason ? `?reason=${encodeURIComponent(o.reason)}` : '';
      await client.request('DELETE', `/v1/webhooks/${encodeURIComponent(name)}${q}`);
      if (g.json) return printJson(io, { removed: name });
      io.stdout.write(`removed webhook '${name}' and its delivery log\n`);
    }));

  webhook.command('test <name>').description('send a signed webhook.test event to this webhook now; exit 1 when it was not delivered (admins)')
    .addHelpText('after', examples('custos webhook test siem'))
    .action(withClient(io, async (client, g, name: string) => {
      const d = await client.request<DeliveryView>('POST', `/v1/webhooks/${encodeURIComponent(name)}/test`, {});
      if (g.json) printJson(io, d);
      else io.stdout.write(`test event ${d.event_id} to '${name}': ${outcome(d)}\n`);
      if (d.status !== 'delivered') throw new CliError(`the test delivery ${d.id} was not delivered; see custos webhook deliveries ${name}`, 1);
    }));

  pageOptions(webhook.command('deliveries <name>').description('the delivery log of a webhook, newest first')
    .addOption(new Option('--status <status>', 'only deliveries in this state').choices(['pending', 'delivered', 'dead']))
    .addHelpText('after', examples('custos webhook deliveries siem', 'custos webhook deliveries siem --status dead --all')))
    .action(withClient(io, async (client, g, name: string, o) => {
      const params = new URLSearchParams(defined({ status: o.status, limit: o.limit, cursor: o.cursor }) as Record<string, string>);
      const page = await fetchPages<DeliveryView>(client, `/v1/webhooks/${encodeURIComponent(name)}/deliveries`, params, Boolean(o.all));
      if (g.json) return printJson(io, page);
      printTable(io, ['ID', 'CREATED', 'EVENT', 'STATUS', 'ATTEMPTS', 'LAST', 'NEXT ATTEMPT', 'ERROR'],
        page.items.map((d) => [d.id, d.created_at, d.event_type, d.status, d.attempts, d.last_status, d.next_attempt_at, d.last_error]));
      if (page.next_cursor) io.stdout.write(`more: --cursor ${page.next_cursor}\n`);
    }));

  webhook.command('retry <name> <delivery-id>').description('put a dead delivery back to pending: it is sent again soon, attempts counted afresh (admins)')
    .option(...reasonOption)
    .addHelpText('after', examples('custos webhook retry siem 0190a6f0-…  --reason "receiver fixed"'))
    .action(withClient(io, async (client, g, name: string, id: string, o) => {
      if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id)) throw new CliError(`'${id}' is not a delivery id (see custos webhook deliveries ${name})`, 2);
      const d = await client.request<DeliveryView>('POST', `/v1/webhooks/${encodeURIComponent(name)}/deliveries/${id}/retry`, defined({ reason: o.reason }));
      if (g.json) return printJson(io, d);
      io.stdout.write(`delivery ${d.id} (${d.event_type}) is pending again\n`);
    }));
}
