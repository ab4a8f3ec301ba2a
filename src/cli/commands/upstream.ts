import fs from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { UpstreamView } from '../../gateway/upstreams/upstreams.schemas.js';
import { keyProblem, MAX_PROVIDER_MODEL_LENGTH, PROVIDER_MODEL_PATTERN, PROVIDERS, RETRIES, TIMEOUT_MS } from '../../gateway/upstreams/upstreams.js';
import { CliError } from '../client.js';
import { defined, examples, fetchPages, integerIn, pageOptions, withClient } from '../common.js';
import type { CliIo } from '../output.js';
import { printJson, printRecord, printTable } from '../output.js';

// `custos upstream`: the model providers the gateway forwards to (/v1/upstreams) and the model aliases that route a
// registry model to a provider model id. Admins change them; admins, security and auditors read them. The provider
// key is read from a file (or stdin) or from an environment variable, never from the command line (shell history,
// process lists), checked before any request, and never printed: the server answers only `has_key`.
// Docs: docs/upstreams.md.

/** The key from `--key-file` (a trailing newline is dropped; '-' is stdin) or `--key-env`; a usage error otherwise. */
export function readKey(io: CliIo, o: { keyFile?: string; keyEnv?: string }): string | undefined {
  let key: string;
  let from: string;
  if (o.keyFile !== undefined) {
    from = `--key-file '${o.keyFile}'`;
    try {
      key = fs.readFileSync(o.keyFile === '-' ? 0 : o.keyFile, 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      throw new CliError(`cannot read ${from}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 2);
    }
  } else if (o.keyEnv !== undefined) {
    from = `--key-env ${o.keyEnv}`;
    const value = io.env[o.keyEnv];
    if (value === undefined || value === '') throw new CliError(`${from}: the environment variable is not set`, 2);
    key = value;
  } else {
    return undefined;
  }
  // The problem text never contains the key.
  const problem = keyProblem(key);
  if (problem) throw new CliError(`the ${from.startsWith('--key-file') ? 'file' : 'variable'} given with ${from}: ${problem}`, 2);
  return key;
}

/** `--model resource=provider-model` (repeatable): checked before any request. */
export function collectModel(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const i = value.indexOf('=');
  const resource = i > 0 ? value.slice(0, i) : '';
  const providerModel = i > 0 ? value.slice(i + 1) : '';
  if (!resource || !providerModel || providerModel.length > MAX_PROVIDER_MODEL_LENGTH || !PROVIDER_MODEL_PATTERN.test(providerModel)) {
    throw new InvalidArgumentError('--model takes <resource>=<provider model id>, e.g. gpt=gpt-4o (the provider model: printable characters, no spaces)');
  }
  if (resource in previous) throw new InvalidArgumentError(`--model names '${resource}' twice`);
  return { ...previous, [resource]: providerModel };
}

const reasonOption = ['--reason <text>', 'why (recorded in the audit log)'] as const;
const keyFileOption = () => new Option('--key-file <file>', 'read the provider key from this file (\'-\': stdin); never printed').conflicts('keyEnv');
const keyEnvOption = () => new Option('--key-env <name>', 'read the provider key from this environment variable; never printed');
const timeoutOption = () => new Option('--timeout-ms <ms>', `how long one attempt may take (${TIMEOUT_MS.min}-${TIMEOUT_MS.max}; default ${TIMEOUT_MS.default})`)
  .argParser(integerIn('--timeout-ms', TIMEOUT_MS.min, TIMEOUT_MS.max));
const retriesOption = () => new Option('--retries <n>', `how many times a failed attempt is retried (${RETRIES.min}-${RETRIES.max}; default ${RETRIES.default})`)
  .argParser(integerIn('--retries', RETRIES.min, RETRIES.max));
const providerOption = () => new Option('--provider <provider>', 'openai, anthropic, azure-openai, or openai-compatible (vLLM, Ollama, any OpenAI-style server)').choices(PROVIDERS);

function modelsText(u: UpstreamView): string {
  return u.models.length === 0 ? '-' : u.models.map((m) => `${m.resource.name}→${m.provider_model}`).join(', ');
}

function summary(u: UpstreamView): string {
  return `${u.provider} at ${u.base_url}, ${u.has_key ? 'key stored' : 'no key'}, timeout ${u.timeout_ms} ms, ${u.retries} retr${u.retries === 1 ? 'y' : 'ies'}, version ${u.version}`;
}

export function registerUpstreamCommands(program: Command, io: CliIo): void {
  const upstream = program.command('upstream').description('model providers the gateway forwards to, their sealed keys and model aliases (admins change; admin/security/auditor read)')
    .addHelpText('after', examples(
      'custos upstream add openai --provider openai --base-url https://api.openai.com/v1 --key-env OPENAI_API_KEY --model gpt=gpt-4o',
      'custos upstream route openai gpt-mini gpt-4o-mini',
      'custos upstream update openai --key-file new-key.txt --reason "quarterly rotation"',
    ));

  upstream.command('add <name>').description('add an upstream (its key is stored sealed and never shown again) (admins)')
    .addOption(providerOption().makeOptionMandatory())
    .requiredOption('--base-url <url>', 'where calls go: https, or plain http only to a loopback or private address (a local vLLM or Ollama)')
    .addOption(keyFileOption())
    .addOption(keyEnvOption())
    .option('--api-version <version>', 'Azure OpenAI only: the api-version to send (e.g. 2024-10-21)')
    .addOption(timeoutOption())
    .addOption(retriesOption())
    .option('--model <resource=provider-model>', 'serve this model resource as this provider model id; repeatable', collectModel)
    .option(...reasonOption)
    .addHelpText('after', examples(
      'custos upstream add openai --provider openai --base-url https://api.openai.com/v1 --key-env OPENAI_API_KEY --model gpt=gpt-4o',
      'custos upstream add claude --provider anthropic --base-url https://api.anthropic.com/v1 --key-file anthropic.key --model claude=claude-sonnet-4-5',
      'custos upstream add azure-eu --provider azure-openai --base-url https://contoso.openai.azure.com/openai --api-version 2024-10-21 --key-file - < azure.key',
      'custos upstream add ollama --provider openai-compatible --base-url http://127.0.0.1:11434/v1 --model llama=llama3.1:8b --timeout-ms 120000',
    ))
    .action(withClient(io, async (client, g, name: string, o) => {
      const key = readKey(io, o);
      const u = await client.request<UpstreamView>('POST', '/v1/upstreams', defined({
        name, provider: o.provider, base_url: o.baseUrl, key, api_version: o.apiVersion, timeout_ms: o.timeoutMs, retries: o.retries,
        models: o.model as Record<string, string> | undefined, reason: o.reason,
      }));
      if (g.json) return printJson(io, u);
      io.stdout.write(`added upstream '${u.name}': ${summary(u)}; models: ${modelsText(u)}\n`);
    }));

  pageOptions(upstream.command('list').description('list upstreams and the models they serve (never their keys)')
    .addOption(providerOption())
    .addHelpText('after', examples('custos upstream list', 'custos --json upstream list --provider openai-compatible --all')))
    .action(withClient(io, async (client, g, o) => {
      const params = new URLSearchParams(defined({ provider: o.provider, limit: o.limit, cursor: o.cursor }) as Record<string, string>);
      const page = await fetchPages<UpstreamView>(client, '/v1/upstreams', params, Boolean(o.all));
      if (g.json) return printJson(io, page);
      printTable(io, ['NAME', 'PROVIDER', 'BASE URL', 'KEY', 'TIMEOUT MS', 'RETRIES', 'MODELS'],
        page.items.map((u) => [u.name, u.provider, u.base_url, u.has_key ? 'stored' : 'none', u.timeout_ms, u.retries, modelsText(u)]));
      if (page.next_cursor) io.stdout.write(`more: --cursor ${page.next_cursor}\n`);
    }));

  upstream.command('show <name>').description('show an upstream and the models it serves (never its key)')
    .addHelpText('after', examples('custos upstream show openai'))
    .action(withClient(io, async (client, g, name: string) => {
      const u = await client.request<UpstreamView>('GET', `/v1/upstreams/${encodeURIComponent(name)}`);
      if (g.json) return printJson(io, u);
      printRecord(io, {
        id: u.id, name: u.name, provider: u.provider, base_url: u.base_url, api_version: u.api_version, key: u.has_key ? 'stored (write-only)' : 'none',
        timeout_ms: u.timeout_ms, retries: u.retries, version: u.version, created_at: u.created_at, created_by: u.created_by, updated_at: u.updated_at,
      });
      const models = u.models;
      if (models.length > 0) {
        io.stdout.write('\n');
        printTable(io, ['MODEL RESOURCE', 'KIND', 'PROVIDER MODEL', 'ROUTED AT'], models.map((m) => [m.resource.name, m.resource.kind, m.provider_model, m.routed_at]));
      }
    }));

  upstream.command('update <name>').description('change an upstream, or rotate its key: the next call uses the new key and no client changes (admins)')
    .addOption(providerOption())
    .option('--base-url <url>', 'a new base URL (same rule as add)')
    .addOption(keyFileOption().conflicts('removeKey'))
    .addOption(keyEnvOption().conflicts('removeKey'))
    .option('--remove-key', 'forget the stored key (openai-compatible upstreams only)')
    .addOption(new Option('--api-version <version>', 'Azure OpenAI only: a new api-version').conflicts('clearApiVersion'))
    .option('--clear-api-version', 'remove the api-version')
    .addOption(timeoutOption())
    .addOption(retriesOption())
    .addOption(new Option('--expected-version <n>', 'refuse if the upstream changed since this version').argParser(integerIn('--expected-version', 1, Number.MAX_SAFE_INTEGER)))
    .option(...reasonOption)
    .addHelpText('after', examples(
      'custos upstream update openai --key-env NEW_OPENAI_API_KEY --reason "quarterly rotation"',
      'custos upstream update ollama --timeout-ms 300000 --retries 0',
    ))
    .action(withClient(io, async (client, g, name: string, o) => {
      const key = readKey(io, o);
      const body = defined({
        provider: o.provider, base_url: o.baseUrl, key, remove_key: o.removeKey ? true : undefined,
        api_version: o.clearApiVersion ? null : o.apiVersion, timeout_ms: o.timeoutMs, retries: o.retries, expected_version: o.expectedVersion, reason: o.reason,
      });
      if (Object.keys(body).filter((k) => k !== 'reason' && k !== 'expected_version').length === 0) {
        throw new CliError('nothing to change: give --provider, --base-url, --key-file, --key-env, --remove-key, --api-version, --clear-api-version, --timeout-ms or --retries', 2);
      }
      const u = await client.request<UpstreamView>('PATCH', `/v1/upstreams/${encodeURIComponent(name)}`, body);
      if (g.json) return printJson(io, u);
      io.stdout.write(`updated upstream '${u.name}'${key !== undefined ? ' (new key stored)' : o.removeKey ? ' (key removed)' : ''}: ${summary(u)}\n`);
    }));

  upstream.command('remove <name>').description('remove an upstream (admins)')
    .option('--unroute-models', 'also remove the model aliases it serves (those models stop being served)')
    .option(...reasonOption)
    .addHelpText('after', examples('custos upstream remove old-proxy --reason "replaced"', 'custos upstream remove ollama --unroute-models'))
    .action(withClient(io, async (client, g, name: string, o) => {
      const params = new URLSearchParams(defined({ unroute_models: o.unrouteModels ? 'true' : undefined, reason: o.reason }) as Record<string, string>);
      const q = params.size > 0 ? `?${params.toString()}` : '';
      await client.request('DELETE', `/v1/upstreams/${encodeURIComponent(name)}${q}`);
      if (g.json) return printJson(io, { removed: name });
      io.stdout.write(`removed upstream '${name}'${o.unrouteModels ? ' and its model aliases' : ''}\n`);
    }));

  upstream.command('route <name> <resource> <provider-model>').description('serve a model resource through this upstream as a provider model id, or change its provider model (admins)')
    .option(...reasonOption)
    .addHelpText('after', examples('custos upstream route openai gpt-mini gpt-4o-mini', 'custos upstream route azure-eu gpt my-gpt4o-deployment --reason "EU residency"'))
    .action(withClient(io, async (client, g, name: string, resource: string, providerModel: string, o) => {
      if (providerModel.length > MAX_PROVIDER_MODEL_LENGTH || !PROVIDER_MODEL_PATTERN.test(providerModel)) {
        throw new CliError('the provider model id is printable characters without spaces', 2);
      }
      const u = await client.request<UpstreamView>('PUT', `/v1/upstreams/${encodeURIComponent(name)}/models/${encodeURIComponent(resource)}`, defined({ provider_model: providerModel, reason: o.reason }));
      if (g.json) return printJson(io, u);
      io.stdout.write(`model '${resource}' is served by upstream '${u.name}' as ${providerModel}\n`);
    }));

  upstream.command('unroute <name> <resource>').description('stop serving a model resource through this upstream (admins)')
    .option(...reasonOption)
    .addHelpText('after', examples('custos upstream unroute openai gpt-mini --reason "retired"'))
    .action(withClient(io, async (client, g, name: string, resource: string, o) => {
      const q = o.reason ? `?reason=${encodeURIComponent(o.reason)}` : '';
      await client.request('DELETE', `/v1/upstreams/${encodeURIComponent(name)}/models/${encodeURIComponent(resource)}${q}`);
      if (g.json) return printJson(io, { unrouted: resource, upstream: name });
      io.stdout.write(`model '${resource}' is no longer served by upstream '${name}'\n`);
    }));
}
