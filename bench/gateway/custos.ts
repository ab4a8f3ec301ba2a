// Custos as the gateway bench runs it: `node bin/custos.js serve` in its own process (fresh temp data dir, or a fresh
// PostgreSQL database), its control plane and gateway on free loopback ports, then set up through the HTTP API with the
// bootstrap admin token as an operator would: an owner and an agent (purpose `bench`), a model resource, an
// openai-compatible upstream routing that resource to the bench upstream with the upstream's key, a user policy that
// permits agents to invoke models for their purpose (activated), and an API key for the agent addressed to the gateway.
// Rules:
// - The client holds only the Custos API key; the upstream key goes in through /v1/upstreams (write-only) and the
//   upstream process refuses anything else, so a leaked credential shows up as a failed run.
// - Every call is governed as in production: the key verified, a PDP `invoke` decision, limits, and the decision and
//   call record committed before the answer's first byte (the pipeline does that; nothing here turns it off).
// - /metrics is scraped with a scrape credential set in CUSTOS_METRICS_TOKEN, for the per-step histograms.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PROVIDER_MODEL, type Target, type Upstream } from './peers.js';
import { start, trackDir, waitForOutput } from './procs.js';

export const MODEL_RESOURCE = 'bench-chat';
export const AGENT = 'bench-agent';

export interface CustosServer {
  target: Target;
  cpUrl: string;
  gatewayUrl: string;
  pid: number;
  metricsToken: string;
  /** Step histograms (sum and count per step) and other series from the gateway's /metrics. */
  metrics(): Promise<Map<string, number>>;
}

async function api(base: string, token: string, method: string, p: string, body?: unknown): Promise<any> {
  const res = await fetch(`${base}${p}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status < 200 || res.status > 299) throw new Error(`${method} ${p}: ${res.status} ${text.slice(0, 600)}`);
  return text ? JSON.parse(text) : undefined;
}

export const BENCH_POLICY = `// bench/gateway: agents invoke models for a purpose both allow.
@id("bench-agents-invoke-models")
permit (principal is Custos::Agent, action == Custos::Action::"invoke", resource is Custos::Model)
when { context.purpose != "" && resource.purposes.contains(context.purpose) && principal.purposes.contains(context.purpose) };
`;

/** Parses Prometheus text into series → value (labels kept in the key, as printed). */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

export async function startCustos(opts: {
  id: string;
  label: string;
  serverRoot: string;
  upstream: Upstream;
  databaseUrl?: string;
  logLevel: string;
  nodeArgs?: string[];
  /** Where the server's stdout (its log) goes; /dev/null by default. */
  logFile?: string;
}): Promise<CustosServer> {
  const dir = trackDir(fs.mkdtempSync(path.join(os.tmpdir(), 'custos-bench-gateway-')));
  const metricsToken = `bench-scrape-${crypto.randomBytes(16).toString('hex')}`;
  const env = {
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CUSTOS_'))),
    CUSTOS_METRICS_TOKEN: metricsToken,
  };
  const args = [
    ...(opts.nodeArgs ?? []),
    path.join(opts.serverRoot, 'bin', 'custos.js'), 'serve',
    '--data-dir', path.join(dir, 'data'), '--host', '127.0.0.1', '--port', '0', '--gateway-port', '0',
    '--log-level', opts.logLevel,
    ...(opts.databaseUrl ? ['--database-url', opts.databaseUrl] : []),
  ];
  const out = fs.openSync(opts.logFile ?? '/dev/null', 'w');
  const proc = start(opts.label, process.execPath, args, { cwd: dir, env, stdio: ['ignore', out, 'pipe'] });
  fs.closeSync(out);
  const m = await waitForOutput(proc, /control plane listening on (http:\/\/127\.0\.0\.1:\d+)[^\n]*\n[^\n]*gateway listening on (http:\/\/127\.0\.0\.1:\d+)/, opts.label);
  const cpUrl = m[1]!;
  const gatewayUrl = m[2]!;
  const admin = fs.readFileSync(path.join(dir, 'data', 'bootstrap-admin.token'), 'utf8').trim();
  const call = (method: string, p: string, body?: unknown) => api(cpUrl, admin, method, p, body);

  await call('POST', '/v1/principals', { name: 'bench-owner', kind: 'human' });
  await call('POST', '/v1/principals', { name: AGENT, kind: 'agent', owner: 'bench-owner', status: 'active', scopes: ['models:invoke'], purposes: ['bench'] });
  await call('POST', '/v1/resources', { name: MODEL_RESOURCE, kind: 'model', owner: 'bench-owner', classification: 'internal', risk_tier: 'low', purposes: ['bench'] });
  await call('POST', '/v1/upstreams', {
    name: 'bench-upstream', provider: 'openai-compatible', base_url: `${opts.upstream.origin}/v1`, key: opts.upstream.key, retries: 0,
    models: { [MODEL_RESOURCE]: PROVIDER_MODEL },
  });
  const version = await call('POST', '/v1/policies', { policies: BENCH_POLICY, description: 'bench/gateway' });
  await call('POST', `/v1/policies/${version.version}/activate`, { reason: 'bench/gateway' });
  const key = await call('POST', '/v1/api-keys', { principal: AGENT, purpose: 'bench', audience: [gatewayUrl], ttl_seconds: 3600, description: 'bench/gateway' });

  return {
    cpUrl, gatewayUrl, pid: proc.pid, metricsToken,
    target: {
      id: opts.id, label: opts.label, origin: gatewayUrl, headers: { authorization: `Bearer ${key.key as string}` }, model: MODEL_RESOURCE, pid: proc.pid,
      async stop() {
        await proc.stop();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    },
    async metrics() {
      const res = await fetch(`${gatewayUrl}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } });
      if (res.status !== 200) throw new Error(`GET ${gatewayUrl}/metrics: ${res.status} ${(await res.text()).slice(0, 300)}`);
      return parseMetrics(await res.text());
    },
  };
}
