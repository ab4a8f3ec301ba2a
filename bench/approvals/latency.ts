// Time from the final approval to the first allowed decision on the enforcement path.
//
// The gateway calls the decision point in-process (`cp.authz.pdp.decide`, audited before it returns), so this part
// runs a control plane inside the bench process — the same build the served figures use, imported from its dist/ —
// listening on loopback: requests are filed and approved over real HTTP, and the instant the final approval's
// response has arrived (status approved) the bench asks the decision point about the agent's call, with the request
// facts `factsFromActor` builds from the agent's verified actor (an access token for the purpose, private_key_jwt,
// via the gateway), again and again without sleeping until it answers allow. Grants are effective at once (the
// approval's transaction bumps the policy counter; every decision reads it first), so one decision should do.
//
// Per sample (a fresh agent × resource pair that has no access yet): file, decide once (must be deny: the figure
// "one decision, current snapshot" — a request the decision point's memo has not seen), for critical approve once as
// sam and decide again (still deny), then the final approval and the timed loop. Samples run one at a time. `backgroundGrants` live direct grants (other resources)
// can be put in the store first: a new grant makes the next decision rebuild the policy set with every live grant.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ControlPlane } from '../../src/app.js';
import type { DecisionRequest, Pdp } from '../../src/authz/index.js';
import type { Actor } from '../../src/platform/actor.js';
import { grantBody, PURPOSE, requestBody, createFixture, createRegistry, type Fixture } from './fixture.js';
import { createClient, type Client } from './http.js';

/** What the bench imports from the build (dist/), typed by the sources it was compiled from. */
interface Build {
  createControlPlane: typeof import('../../src/app.js').createControlPlane;
  loadConfig: typeof import('../../src/platform/config.js').loadConfig;
  createLogger: typeof import('../../src/platform/logger.js').createLogger;
  factsFromActor: typeof import('../../src/authz/index.js').factsFromActor;
  credentialActor: typeof import('../../src/platform/actor.js').credentialActor;
}

async function loadBuild(root: string): Promise<Build> {
  const dist = (p: string) => import(path.join(root, 'dist', p));
  const [app, config, logger, authz, actor] = await Promise.all([
    dist('app.js'), dist('platform/config.js'), dist('platform/logger.js'), dist('authz/index.js'), dist('platform/actor.js'),
  ]);
  return {
    createControlPlane: app.createControlPlane, loadConfig: config.loadConfig, createLogger: logger.createLogger,
    factsFromActor: authz.factsFromActor, credentialActor: actor.credentialActor,
  };
}

export interface Sample {
  tier: 'medium' | 'critical';
  /** The final approval's round trip (ms). */
  approve_ms: number;
  /** From the final approval's response to the first allow (ms). */
  to_allow_ms: number;
  /** Decisions asked until the first allow (1 when the grant was effective at once). */
  decisions: number;
  /** The first decision on the pair, before any approval: a deny on a current snapshot, not answered from the
   * decision point's memo (a request it has not seen), for scale (ms). */
  current_ms: number;
}

export interface InProcess {
  fx: Fixture;
  /** Runs `n` samples of `tier` with `background` live direct grants in the store (topped up first). */
  samples(tier: 'medium' | 'critical', n: number, background: number): Promise<Sample[]>;
  liveGrants(): number;
  close(): Promise<void>;
}

export async function startInProcess(opts: { serverRoot: string; databaseUrl?: string; agents: number; resources: number }): Promise<InProcess> {
  const b = await loadBuild(opts.serverRoot);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-bench-approvals-'));
  // Removed on any exit, interrupted runs included (bench/registry/server.ts drops the databases on a signal).
  const removeDir = () => fs.rmSync(dataDir, { recursive: true, force: true });
  process.once('exit', removeDir);
  let cp: ControlPlane | undefined;
  let client: Client | undefined;
  try {
    const config = b.loadConfig({ dataDir, host: '127.0.0.1', port: '0', logLevel: 'silent', ...(opts.databaseUrl ? { databaseUrl: opts.databaseUrl } : {}) }, {});
    cp = await b.createControlPlane(config, { logger: b.createLogger('silent') });
    const url = await cp.listen();
    const admin = cp.bootstrap!.token;
    client = createClient(url, 4);
    const fx = await createFixture(client, admin, { agents: opts.agents, resources: opts.resources });
    const fillers = await createRegistry(client, admin, { agents: 0, resources: 10, prefix: 'filler-' });
    const pdp: Pdp = cp.authz.pdp;

    // The agents as the gateway sees them after verifying their access tokens.
    const actors = new Map<string, Actor>();
    for (const name of fx.agents) {
      const p = await client.must('GET', `/v1/principals/${name}`, undefined, admin, 200);
      actors.set(name, b.credentialActor({
        principal: { id: p.id, name: p.name, kind: p.kind, status: p.status, ownerId: p.owner?.id ?? null },
        credential: { id: `bench-token-${name}`, kind: 'access_token', issuedAt: new Date(Date.now() - 30_000).toISOString() },
        authMethod: 'private_key_jwt', teamIds: [], scope: ['model:invoke'], purpose: PURPOSE, audience: [], binding: null,
        delegationChain: [], provenance: { sourceIp: '10.0.0.7', requestId: null, traceId: null, userAgent: 'bench/approvals gateway', via: 'gateway' },
      }));
    }

    let decisionSeq = 0;
    const decide = async (agent: string, resource: string) => {
      const actor = actors.get(agent)!;
      const request: DecisionRequest = {
        principal: actor.principal!.id, action: 'invoke', resource: { kind: 'registry', ref: resource },
        facts: b.factsFromActor(actor), requestId: `bench-approvals-${++decisionSeq}`,
      };
      return (await pdp.decide(request, actor)).decision;
    };

    let live = 0;
    const used = { medium: 0, critical: 0 };
    const c = client;
    const topUp = async (target: number) => {
      const bodies: Array<ReturnType<typeof grantBody>> = [];
      for (let i = live; i < target; i++) bodies.push(grantBody(fx.agents[i % fx.agents.length]!, fillers.medium[Math.floor(i / fx.agents.length) % fillers.medium.length]!, i));
      let next = 0;
      await Promise.all(Array.from({ length: 4 }, async () => {
        while (next < bodies.length) await c.must('POST', '/v1/grants', bodies[next++]!, admin);
      }));
      live = Math.max(live, target);
    };

    return {
      fx,
      liveGrants: () => live,
      async samples(tier, n, background) {
        await topUp(background);
        // Brings the snapshot up to date after the top-up, so the first sample's "one decision" is not a rebuild.
        await decide(fx.agents[0]!, fillers.medium[0]!);
        const out: Sample[] = [];
        const resources = fx[tier];
        for (let s = 0; s < n; s++) {
          const k = used[tier]++;
          if (k >= fx.agents.length * resources.length) throw new Error(`not enough fresh ${tier} pairs: raise --latency-resources`);
          const agent = fx.agents[k % fx.agents.length]!;
          const resource = resources[Math.floor(k / fx.agents.length)]!;
          const r = await c.must('POST', '/v1/access-requests', requestBody(agent, resource, k), fx.owen);
          if (r.status !== 'pending') throw new Error(`latency: a ${tier} request came back ${r.status}`);
          const approve = (token: string) => c.must('POST', `/v1/access-requests/${r.id}/approve`, { request_hash: r.request_hash }, token, 200);
          const t = performance.now();
          if ((await decide(agent, resource)) !== 'deny') throw new Error(`latency: ${agent} is already allowed on ${resource} before approval`);
          const currentMs = performance.now() - t;
          let finalToken = fx.sam;
          if (tier === 'critical') {
            const first = await approve(fx.sam);
            if (first.status !== 'pending') throw new Error(`latency: critical request ${first.status} after one approval`);
            if ((await decide(agent, resource)) !== 'deny') throw new Error(`latency: ${agent} allowed on ${resource} after one of two approvals`);
            finalToken = fx.sue;
          }
          const a0 = performance.now();
          const done = await approve(finalToken);
          const approved = performance.now();
          if (done.status !== 'approved') throw new Error(`latency: the final approval left the request ${done.status}`);
          let decisions = 0;
          for (;;) {
            decisions++;
            if ((await decide(agent, resource)) === 'allow') break;
            if (decisions >= 10_000 || performance.now() - approved > 30_000) throw new Error(`latency: no allow for ${agent} on ${resource} after ${decisions} decisions`);
          }
          out.push({ tier, approve_ms: approved - a0, to_allow_ms: performance.now() - approved, decisions, current_ms: currentMs });
        }
        live += n;
        return out;
      },
      async close() {
        await c.close();
        await cp!.close();
        removeDir();
      },
    };
  } catch (error) {
    await client?.close().catch(() => undefined);
    await cp?.close().catch(() => undefined);
    removeDir();
    throw error;
  }
}
