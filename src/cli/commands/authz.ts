import fs from 'node:fs';
import { Command, Option } from 'commander';
import { CliError } from '../client.js';
import { defined, examples, integerIn, splitList, withClient } from '../common.js';
import { printJson, sanitizeCell, type CliIo } from '../output.js';

// `custos authz check`: asks the server to decide one request and explain it (POST /v1/authz/check): which
// policies permitted, forbade or errored, each principal's verdict when the request is delegated, and the Cedar
// context used. The facts given here (purpose, DPoP binding, source address, posture, …) are stated by the
// operator: the server decides as if a request carried them, records the decision, and marks them as simulated.

interface Verdict { principal: string; decision: 'allow' | 'deny'; permits: string[]; forbids: string[]; errors: Array<{ policy: string; message: string }> }
interface CheckView {
  decision: 'allow' | 'deny';
  reasons: Array<Record<string, unknown>>;
  permitted_by: string[];
  forbidden_by: string[];
  errored: Array<{ policy: string; principal: string; message: string }>;
  verdicts: Verdict[];
  context: Record<string, unknown>;
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

export function registerAuthzCommands(program: Command, io: CliIo): void {
  const authz = program.command('authz').description('ask the decision point (explain a decision)')
    .addHelpText('after', examples('custos authz check --principal support-bot --action read --resource tickets --purpose customer-support'));

  authz.command('check').description('decide one request on facts you state and explain it: policies that permitted, forbade or errored, per principal, and the context used (admin, security; the decision is recorded, its facts marked simulated)')
    .requiredOption('--principal <principal>', 'the acting principal (id or name)')
    .requiredOption('--action <action>', 'an asset action (read, invoke, …) or a management action (approve, policy.write, …; then no --resource)')
    .option('--resource <resource>', 'the registry resource (id or name); required for asset actions')
    .option('--resource-kind <kind>', 'narrows a resource name to one kind (model, dataset, …)')
    .option('--purpose <purpose>', 'the purpose the credential carries (default none)')
    .option('--dpop-bound', 'the credential is DPoP-bound (default: a bearer credential)')
    .option('--source-ip <address>', 'the source address (its network zone applies)')
    .addOption(new Option('--via <path>', 'direct or through the gateway').choices(['direct', 'gateway']))
    .addOption(new Option('--auth-method <method>', 'how the principal authenticated').choices(['private_key_jwt', 'client_secret', 'api_key', 'federated', 'operator_token', 'none']))
    .addOption(new Option('--credential <kind>', 'what it presented').choices(['access_token', 'api_key', 'operator_token', 'none']))
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
}
