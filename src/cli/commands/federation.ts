import { Command, InvalidArgumentError, Option } from 'commander';
import {
  DEFAULT_ALGORITHMS, MAX_TOKEN_AGE_SECONDS, MIN_TOKEN_AGE_SECONDS, type IssuerView,
} from '../../credentials/federation.schemas.js';
import { CliError } from '../client.js';
import { defined, examples, fetchPages, integerIn, pageOptions, readJwksFile, withClient } from '../common.js';
import { printJson, printRecord, printTable, type CliIo } from '../output.js';

// `custos federation add|list|show|remove`: trusted workload issuers (GitHub Actions, a Kubernetes cluster,
// any OIDC issuer with a JWKS) whose JWTs a workload exchanges for a Custos token with the jwt-bearer grant,
// and the mappings from their claims to principals. A --map is `principal=NAME,claim=value,…`; a value
// `a|b` accepts either. Values containing a comma need the API (POST /v1/federation/issuers) instead.

export interface MapOption {
  principal: string;
  claims: Record<string, string | string[]>;
}

/** Parses one --map: `principal=ci-deployer,repository=org/app,ref=refs/heads/main|refs/heads/release`. */
export function parseMapOption(value: string): MapOption {
  let principal: string | undefined;
  const claims: Record<string, string | string[]> = {};
  for (const part of value.split(',')) {
    const i = part.indexOf('=');
    if (i <= 0 || i === part.length - 1) throw new InvalidArgumentError(`--map entry '${part}' must be name=value`);
    const name = part.slice(0, i).trim();
    const raw = part.slice(i + 1);
    if (name === 'principal') {
      if (principal !== undefined) throw new InvalidArgumentError('--map names principal twice');
      principal = raw;
      continue;
    }
    if (Object.hasOwn(claims, name)) throw new InvalidArgumentError(`--map names the claim '${name}' twice (use a|b for alternatives)`);
    const values = raw.split('|');
    if (values.some((v) => v.length === 0)) throw new InvalidArgumentError(`--map claim '${name}' has an empty alternative`);
    claims[name] = values.length === 1 ? values[0]! : values;
  }
  if (principal === undefined) throw new InvalidArgumentError('--map needs principal=<name> (the principal a matching workload becomes)');
  if (Object.keys(claims).length === 0) throw new InvalidArgumentError('--map needs at least one claim condition besides principal');
  return { principal, claims };
}

const collectMap = (value: string, previous: MapOption[] = []) => [...previous, parseMapOption(value)];

function parseAlgorithms(value: string): string[] {
  const list = value.split(',').map((s) => s.trim()).filter(Boolean);
  if (list.length === 0) throw new InvalidArgumentError('--alg needs at least one algorithm');
  return list;
}


const keySource = (i: IssuerView) => i.jwks_url ?? `inline (${i.jwks?.keys.length ?? 0} key${i.jwks?.keys.length === 1 ? '' : 's'})`;
const mappingText = (m: IssuerView['mappings'][number]) =>
  `${m.principal.name} ← ${Object.entries(m.claims).map(([k, v]) => `${k}=${typeof v === 'string' ? v : v.join('|')}`).join(',')}`;

export function registerFederationCommands(program: Command, io: CliIo): void {
  const federation = program.command('federation')
    .description('trusted workload issuers (GitHub Actions, Kubernetes, …) whose JWTs map to principals (jwt-bearer grant)')
    .addHelpText('after', examples(
      'custos federation add github --issuer https://token.actions.githubusercontent.com --jwks-url https://token.actions.githubusercontent.com/.well-known/jwks --audience https://custos.example.com --map principal=ci-deployer,repository=org/app,ref=refs/heads/main',
      'custos federation list',
    ));

  federation.command('add <name>').description('trust a workload issuer and map its tokens to principals (admin)')
    .requiredOption('--issuer <url>', 'the exact iss its tokens carry (https; plain http only to 127.0.0.1, [::1] or localhost)')
    .option('--jwks-url <url>', 'where the issuer publishes its keys (give this or --jwks)')
    .option('--jwks <file>', 'a file holding the issuer\'s public keys as a JWKS (give this or --jwks-url)')
    .requiredOption('--audience <aud>', 'the aud the workload tokens must carry (e.g. this server\'s issuer URL)')
    .addOption(new Option('--alg <list>', `accepted algorithms, comma-separated (asymmetric only; default ${DEFAULT_ALGORITHMS.join(',')})`).argParser(parseAlgorithms))
    .option('--map <mapping>', 'principal=NAME,claim=value[,claim=a|b…]: a workload whose claims all match becomes NAME (repeatable)', collectMap)
    .addOption(new Option('--max-token-age <seconds>', `refuse tokens issued longer ago than this, ${MIN_TOKEN_AGE_SECONDS} to ${MAX_TOKEN_AGE_SECONDS}`)
      .argParser(integerIn('--max-token-age', MIN_TOKEN_AGE_SECONDS, MAX_TOKEN_AGE_SECONDS)))
    .option('--reason <text>', 'why (recorded in the audit log)')
    .addHelpText('after', examples(
      'custos federation add github --issuer https://token.actions.githubusercontent.com --jwks-url https://token.actions.githubusercontent.com/.well-known/jwks --audience https://custos.example.com --map principal=ci-deployer,repository=org/app,ref=refs/heads/main,environment=production',
      'custos federation add prod-cluster --issuer https://kubernetes.default.svc --jwks cluster-jwks.json --audience custos --alg RS256 --map principal=k8s-builder,kubernetes.io.namespace=ci,kubernetes.io.serviceaccount.name=builder',
    ))
    .action(withClient(io, async (client, g, name: string, o) => {
      if ((o.jwksUrl === undefined) === (o.jwks === undefined)) throw new CliError('give exactly one of --jwks-url or --jwks', 2);
      const mappings = (o.map as MapOption[] | undefined) ?? [];
      if (mappings.length === 0) throw new CliError('give at least one --map principal=NAME,claim=value', 2);
      const body = defined({
        name, issuer: o.issuer, jwks_url: o.jwksUrl, jwks: o.jwks !== undefined ? readJwksFile(o.jwks) : undefined, audience: o.audience,
        algorithms: o.alg, mappings, max_token_age_seconds: o.maxTokenAge, reason: o.reason,
      });
      const i = await client.request<IssuerView>('POST', '/v1/federation/issuers', body);
      if (g.json) return printJson(io, i);
      io.stdout.write(`trusting '${i.name}' (${i.issuer}) with ${i.mappings.length} mapping${i.mappings.length === 1 ? '' : 's'}\n`);
    }));

  pageOptions(federation.command('list').description('list trusted workload issuers and their mappings')
    .addHelpText('after', examples('custos federation list', 'custos federation list --json')))
    .action(withClient(io, async (client, g, o) => {
      const params = new URLSearchParams(defined({ limit: o.limit, cursor: o.cursor }) as Record<string, string>);
      const page = await fetchPages<IssuerView>(client, '/v1/federation/issuers', params, Boolean(o.all));
      if (g.json) return printJson(io, page);
      printTable(io, ['NAME', 'ISSUER', 'KEYS', 'AUDIENCE', 'ALGORITHMS', 'MAPPINGS'], page.items.map((i) => [
        i.name, i.issuer, keySource(i), i.audience, i.algorithms.join(','), i.mappings.map(mappingText).join('\n'),
      ]));
      if (page.next_cursor) io.stdout.write(`more: --cursor ${page.next_cursor}\n`);
    }));

  federation.command('show <name>').description('show one trusted issuer and its mappings')
    .addHelpText('after', examples('custos federation show github'))
    .action(withClient(io, async (client, g, name: string) => {
      const i = await client.request<IssuerView>('GET', `/v1/federation/issuers/${encodeURIComponent(name)}`);
      if (g.json) return printJson(io, i);
      const { mappings, jwks: _jwks, ...rest } = i;
      printRecord(io, { ...rest, keys: keySource(i), algorithms: i.algorithms.join(',') });
      for (const m of mappings) io.stdout.write(`mapping  ${mappingText(m)}\n`);
    }));

  federation.command('remove <name>').description('stop trusting a workload issuer (its tokens are refused at once; tokens already issued run out)')
    .option('--reason <text>', 'why (recorded in the audit log)')
    .addHelpText('after', examples('custos federation remove github --reason "moved CI"'))
    .action(withClient(io, async (client, g, name: string, o) => {
      const query = o.reason ? `?${new URLSearchParams({ reason: o.reason }).toString()}` : '';
      await client.request('DELETE', `/v1/federation/issuers/${encodeURIComponent(name)}${query}`);
      if (g.json) printJson(io, { removed: name }); else io.stdout.write(`no longer trusting '${name}'\n`);
    }));
}
