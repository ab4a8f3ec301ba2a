import fs from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ACTIONS, ASSET_ACTIONS, MANAGEMENT_ACTIONS } from '../../authz/contracts.js';
import type { AccessView } from '../../authz/grants/access.schemas.js';
import { RESOURCE_KINDS } from '../../identity/index.js';
import { CliError } from '../client.js';
import { defined, examples, integerIn, splitList, withClient } from '../common.js';
import { printJson, printTable, sanitizeCell, type CliIo } from '../output.js';

// `custos authz check`: asks the server to decide one request and explain it (POST /v1/authz/check): which
// policies permitted, forbade or errored, each principal's verdict when the request is delegated, and the Cedar
// context used. The facts given here (purpose, DPoP binding, source address, posture, …) are stated by the
// operator: the server decides as if a request carried them, records the decision, and marks them as simulated.
// `custos authz access <principal>`: what a principal can do on which resources now (GET /v1/principals/{ref}/access),
// every answer a decision of the PDP on the (simulated) facts given.

interface Verdict { principal: string; decision: 'allow' | 'deny'; permits: string[]; forbids: string[]; errors: Array<{ policy: string; message: string }> }
interface CheckView {
  decision: 'allow' | 'deny';
  reasons: Array<Record<string, unknown>>;
  permitted_by: string[];
  forbidden_by: string[];
  errored: Array<{ policy: string; principal: string; message: string }>;
  verdicts: Verdict[];
  context: Record<string, unknown>;
  /** The posture the decision saw and why (older servers omit it). */
  device?: { posture: string; id: string; source: string; detail?: string };
  policy_version: string;
  entity_version: number;
  simulated_facts: Record<string, unknown>;
  decision_event_id: string | null;
  check_event_id: string;
}

/** `@file` reads a posture assertion from a file (a JWT on the command line ends up in shell history). */
function readAssertion(value: string): string {
  if (!value.startsWith('@')) return value;
  try {
    return fs.readFileSync(value.slice(1), 'utf8').trim();
  } catch (error) {
    throw new CliError(`cannot read ${value.slice(1)}: ${(error as Error).message}`, 2);
  }
}

function line(io: CliIo, text: string): void {
  io.stdout.write(`${sanitizeCell(text)}\n`);
}

function explain(io: CliIo, r: CheckView): void {
  line(io, `decision: ${r.decision.toUpperCase()}`);
  const refused = r.reasons.filter((x) => x.kind === 'refused');
  for (const x of refused) line(io, `  not evaluated: ${String(x.code)} (${String(x.message)})`);
  for (const v of r.verdicts) {
    line(io, `principal ${v.principal}: ${v.decision}`);
    for (const p of v.permits) line(io, `  permitted by ${p}`);
    for (const p of v.forbids) line(io, `  forbidden by ${p}`);
    for (const e of v.errors) line(io, `  ERRORED ${e.policy}: ${e.message} (any error denies)`);
    if (v.decision === 'deny' && !v.forbids.length && !v.errors.length) line(io, '  no policy permitted it (default deny)');
  }
  const facts = Object.entries(r.simulated_facts);
  line(io, `simulated facts (stated, not seen): ${facts.length ? facts.map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(' ') : 'none'}`);
  if (r.device) {
    line(io, `device: ${r.device.posture}${r.device.id ? ` (${r.device.id})` : ''}, source ${r.device.source}${r.device.detail ? `: ${r.device.detail}` : ''}`);
  }
  line(io, `context: ${JSON.stringify(r.context)}`);
  line(io, `policy version ${r.policy_version}, entity version ${r.entity_version}; recorded as ${r.decision_event_id ?? '-'} (check ${r.check_event_id})`);
}

/** One line for stderr: the first thing that stopped the request. */
function denialSummary(r: CheckView): string {
  const refused = r.reasons.find((x) => x.kind === 'refused');
  if (refused) return String(refused.code);
  if (r.errored.length) return `policy ${r.errored[0]!.policy} errored`;
  if (r.forbidden_by.length) return `forbidden by ${r.forbidden_by.join(', ')}`;
  const unpermitted = r.verdicts.filter((v) => v.decision === 'deny').map((v) => v.principal);
  return `no policy permits ${unpermitted.join(', ') || 'it'}`;
}

const ASSET = new Set<string>(ASSET_ACTIONS);
const KNOWN_ACTIONS = new Set<string>(ACTIONS);

/** `--action`: a Custos action, checked before any request. */
function checkAction(value: string): string {
  if (!KNOWN_ACTIONS.has(value)) {
    throw new InvalidArgumentError(`--action must be an asset action (${ASSET_ACTIONS.join(', ')}) or a management action (${MANAGEMENT_ACTIONS.join(', ')})`);
  }
  return value;
}

/** The stated auth methods: `operator` (as policy test cases name it), `operator_token` kept as an alias. */
const AUTH_METHOD_CHOICES = ['private_key_jwt', 'client_secret', 'api_key', 'federated', 'operator', 'operator_token', 'none'];

function accessLine(io: CliIo, r: AccessView): void {
  const facts = Object.entries(r.simulated_facts);
  line(io, `principal ${r.principal.name} (${r.principal.kind}, ${r.principal.status}); simulated facts: ${facts.length ? facts.map(([k, v]) => `${k}=${String(v)}`).join(' ') : 'none'}`);
}

export function registerAuthzCommands(program: Command, io: CliIo): void {
  const authz = program.command('authz').description('ask the decision point (explain a decision)')
    .addHelpText('after', examples(
      'custos authz check --principal support-bot --action read --resource tickets --purpose customer-support',
      'custos authz access support-bot --purpose customer-support',
    ));

  authz.command('check').description('decide one request on facts you state and explain it: policies that permitted, forbade or errored, per principal, and the context used (admin, security; the decision is recorded, its facts marked simulated)')
    .requiredOption('--principal <principal>', 'the acting principal (id or name)')
    .addOption(new Option('--action <action>', 'an asset action (read, invoke, …) or a management action (approve, policy.write, …; then no --resource)').argParser(checkAction).makeOptionMandatory())
    .option('--resource <resource>', 'the registry resource (id or name); required for asset actions')
    .addOption(new Option('--resource-kind <kind>', 'narrows a resource name to one kind').choices([...RESOURCE_KINDS]))
    .option('--purpose <purpose>', 'the purpose the credential carries (default none)')
    .option('--dpop-bound', 'the credential is DPoP-bound (default: a bearer credential)')
    .option('--source-ip <address>', 'the source address (its network zone applies)')
    .addOption(new Option('--via <path>', 'direct or through the gateway').choices(['direct', 'gateway']))
    .addOption(new Option('--auth-method <method>', 'how the principal authenticated (default none; operator_token is an alias of operator)').choices(AUTH_METHOD_CHOICES))
    .addOption(new Option('--credential <kind>', 'what it presented (default: what --auth-method implies: operator → operator_token, api_key → api_key, none → none, others → access_token)').choices(['access_token', 'api_key', 'operator_token', 'none']))
    .option('--workload-id <id>', 'SPIFFE ID or federated subject of an attested workload')
    .option('--delegation-chain <principals>', 'the act chain, outermost first, separated by commas: each must be permitted too')
    .addOption(new Option('--token-age <seconds>', 'seconds since the credential was issued').argParser(integerIn('--token-age', 0, 10 * 366 * 86_400)))
    .option('--device <id>', 'the device the request comes from (its pushed posture record applies)')
    .option('--posture <assertion>', 'a signed posture assertion (JWT), or @file to read it from a file')
    .addOption(new Option('--risk <score>', 'risk score 0-100').argParser(integerIn('--risk', 0, 100)))
    .addHelpText('after', examples(
      'custos authz check --principal support-bot --action read --resource tickets --purpose customer-support',
      'custos authz check --principal sub-agent --action read --resource vault --purpose support --dpop-bound --delegation-chain lead-agent',
      'custos authz check --principal alice --action read --resource hr-data --posture @posture.jwt --json',
    ))
    .action(withClient(io, async (client, g, o) => {
      const action = o.action as string;
      if (ASSET.has(action) && o.resource === undefined) throw new CliError(`--resource is required: '${action}' is an asset action`, 2);
      if (!ASSET.has(action) && (o.resource !== undefined || o.resourceKind !== undefined)) {
        throw new CliError(`'${action}' is a management action on the Custos API: omit --resource and --resource-kind`, 2);
      }
      const r = await client.request<CheckView>('POST', '/v1/authz/check', defined({
        principal: o.principal, action: o.action, resource: o.resource, resource_kind: o.resourceKind, purpose: o.purpose,
        dpop_bound: o.dpopBound ? true : undefined, source_ip: o.sourceIp, via: o.via, auth_method: o.authMethod, credential: o.credential,
        workload_id: o.workloadId, delegation_chain: o.delegationChain ? splitList(o.delegationChain as string) : undefined,
        token_age_seconds: o.tokenAge as number | undefined, device_id: o.device,
        posture_assertion: o.posture === undefined ? undefined : readAssertion(o.posture as string), risk: o.risk as number | undefined,
      }));
      if (g.json) printJson(io, r); else explain(io, r);
      // Like `kubectl auth can-i`: a deny is exit 1, so scripts can branch on it (the explanation is printed first).
      if (r.decision !== 'allow') throw new CliError(`denied (${denialSummary(r)})`, 1);
    }));
  authz.command('access <principal>').description('what a principal can do on which registry resources now: every resource and asset action decided by the PDP on the facts you state (principal.read; owners only for what they own; one audit event per page)')
    .option('--purpose <purpose>', 'the purpose the request carries (default none)')
    .addOption(new Option('--resource-kind <kind>', 'only resources of this kind').choices([...RESOURCE_KINDS]))
    .option('--dpop-bound', 'the credential is DPoP-bound (default: a bearer credential)')
    .option('--source-ip <address>', 'the source address (its network zone applies)')
    .addOption(new Option('--via <path>', 'direct or through the gateway').choices(['direct', 'gateway']))
    .addOption(new Option('--auth-method <method>', 'how the principal authenticated (default none)').choices(AUTH_METHOD_CHOICES))
    .option('--device <id>', 'the device the request comes from (its pushed posture record applies)')
    .addOption(new Option('--limit <n>', 'resources walked per page (1-100, default 25)').argParser(integerIn('--limit', 1, 100)))
    .option('--cursor <cursor>', 'continue from a previous page')
    .option('--all', 'walk every page')
    .addHelpText('after', examples(
      'custos authz access support-bot --purpose customer-support',
      'custos authz access trainer --resource-kind dataset --dpop-bound --all --json',
    ))
    .action(withClient(io, async (client, g, principal: string, o) => {
      const params = new URLSearchParams(defined({
        purpose: o.purpose, resource_kind: o.resourceKind, dpop_bound: o.dpopBound ? 'true' : undefined, source_ip: o.sourceIp, via: o.via,
        auth_method: o.authMethod, device_id: o.device, limit: o.limit === undefined ? undefined : String(o.limit), cursor: o.cursor,
      }) as Record<string, string>);
      const pages: AccessView[] = [];
      for (;;) {
        const page = await client.request<AccessView>('GET', `/v1/principals/${encodeURIComponent(principal)}/access?${params.toString()}`);
        pages.push(page);
        if (!o.all || !page.next_cursor) break;
        params.set('cursor', page.next_cursor);
      }
      const last = pages[pages.length - 1]!;
      const view: AccessView = {
        ...last, items: pages.flatMap((p) => p.items), resources_walked: pages.reduce((n, p) => n + p.resources_walked, 0),
        versions: [...new Map(pages.flatMap((p) => p.versions).map((v) => [`${v.policy}|${v.entity}`, v])).values()],
      };
      if (g.json) return printJson(io, view);
      accessLine(io, view);
      printTable(io, ['RESOURCE', 'KIND', 'CLASSIFICATION', 'ALLOWED', 'BY'], view.items.filter((i) => i.allowed.length > 0).map((i) => [
        i.resource.name, i.resource.kind, i.resource.classification, i.allowed.map((a) => a.action).join(','),
        [...new Set(i.allowed.flatMap((a) => a.policies))].join(','),
      ]));
      for (const i of view.items) for (const e of i.errors) line(io, `ERRORED ${e.policy} on ${i.resource.name} (${e.action}): ${e.message}`);
      line(io, `${view.resources_walked} resources walked; policy versions ${view.versions.map((v) => `${v.policy} (entities ${v.entity})`).join(', ') || '-'}`);
      if (view.next_cursor) line(io, `more: --cursor ${view.next_cursor}`);
    }));
}
