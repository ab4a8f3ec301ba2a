import { adminOnly, ownedResource, readers, type RouteCase, type World } from './shared.js';

// Upstreams (/v1/upstreams): admins change them and their model aliases (upstream.write); admins, security and
// auditors read them (upstream.read); owners see none of it. Each case builds its own upstream (a keyless local
// server, so the matrix holds no provider key) and, where it routes one, its own model resource.

async function upstream(w: World, models: Record<string, string> = {}): Promise<string> {
  return (await w.admin('POST', '/v1/upstreams', { name: w.uniq('up'), provider: 'openai-compatible', base_url: 'http://127.0.0.1:9/v1', models })).name as string;
}

async function routed(w: World): Promise<{ upstream: string; model: string }> {
  const model = await ownedResource(w);
  return { upstream: await upstream(w, { [model]: 'llama3.1:8b' }), model };
}

export const GATEWAY_UPSTREAMS_ROUTE_CASES: Record<string, RouteCase> = {
  'POST /v1/upstreams': {
    expect: adminOnly,
    build: async (w) => ({
      method: 'POST', url: '/v1/upstreams',
      body: { name: w.uniq('up'), provider: 'openai', base_url: 'https://api.openai.com/v1', key: `sk-matrix-${w.uniq('k')}`, models: { [await ownedResource(w)]: 'gpt-4o' } },
    }),
  },
  'GET /v1/upstreams': { expect: readers, build: async () => ({ method: 'GET', url: '/v1/upstreams?limit=5' }) },
  'GET /v1/upstreams/{ref}': { expect: readers, build: async (w) => ({ method: 'GET', url: `/v1/upstreams/${(await routed(w)).upstream}` }) },
  'PATCH /v1/upstreams/{ref}': {
    expect: adminOnly,
    build: async (w) => ({ method: 'PATCH', url: `/v1/upstreams/${await upstream(w)}`, body: { timeout_ms: 5_000, key: `sk-matrix-${w.uniq('k')}`, reason: 'matrix' } }),
  },
  'DELETE /v1/upstreams/{ref}': {
    expect: adminOnly,
    build: async (w) => ({ method: 'DELETE', url: `/v1/upstreams/${(await routed(w)).upstream}?unroute_models=true&reason=matrix` }),
  },
  'PUT /v1/upstreams/{ref}/models/{resource}': {
    expect: adminOnly,
    build: async (w) => ({ method: 'PUT', url: `/v1/upstreams/${await upstream(w)}/models/${await ownedResource(w)}`, body: { provider_model: 'qwen2.5:7b', reason: 'matrix' } }),
  },
  'DELETE /v1/upstreams/{ref}/models/{resource}': {
    expect: adminOnly,
    build: async (w) => {
      const r = await routed(w);
      return { method: 'DELETE', url: `/v1/upstreams/${r.upstream}/models/${r.model}?reason=matrix` };
    },
  },
};
