// Custos on the bench model, built through the real control plane:
// - in process: `createControlPlane` on a fresh SQLite data dir (migrated, bootstrapped), the model's teams, agents
//   and resources created through the management API (`cp.http.inject` with the bootstrap admin token), the bench's
//   user policy (cedar.ts USER_POLICY) created and activated through /v1/policies, then `cp.authz.pdp.decide`
//   (audit before response: each decision's `authz.decision` event committed before it returns) and
//   `cp.authz.pdp.evaluate` (no audit) — what the gateway calls;
// - over HTTP: `node bin/custos.js serve` in its own process (bench/registry/server.ts), populated the same way
//   over HTTP, asked with `POST /access/v1/evaluation` (AuthZEN 1.0) by an admin operator token.
//
// The request facts are what an enforcement point hands the PDP after verifying the agent's access token: the
// purpose bound at issuance, DPoP binding, private_key_jwt, through the gateway. Over AuthZEN the same facts
// travel as the caller's assertions would not (they would be `context.request`): the HTTP requests carry the
// agent's own Custos access token in `subject.properties.token`, minted for the purpose (see mintTokens).
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'undici';
import { createControlPlane, type ControlPlane } from '../../src/app.js';
import type { DecisionRequest, Pdp, RequestFacts } from '../../src/authz/index.js';
import { systemActor, type Actor } from '../../src/platform/actor.js';
import { loadConfig } from '../../src/platform/config.js';
import { createLogger } from '../../src/platform/logger.js';
import { USER_POLICY } from './cedar.js';
import type { BenchRequest, Model } from './model.js';

export type Call = (method: string, url: string, body?: unknown) => Promise<{ status: number; body: any; text: string }>;

const REASON = 'bench/authz';

/** Creates the model's teams, agents and resources through the management API, `inflight` at a time. */
export async function populate(call: Call, model: Model, inflight = 16): Promise<void> {
  const must = async (method: string, url: string, body: unknown, status = 201) => {
    const res = await call(method, url, body);
    if (res.status !== status) throw new Error(`${method} ${url}: ${res.status} ${res.text.slice(0, 400)}`);
    return res;
  };
  const inParallel = async <T>(items: T[], f: (x: T) => Promise<unknown>) => {
    let next = 0;
    await Promise.all(Array.from({ length: Math.min(inflight, items.length) }, async () => {
      while (next < items.length) await f(items[next++]!);
    }));
  };
  await inParallel(model.teams, (name) => must('POST', '/v1/teams', { name, reason: REASON }));
  await inParallel(model.agents, (a) => must('POST', '/v1/principals', {
    name: a.name, kind: 'agent', owner_team: a.team, team: a.team, purposes: a.purposes, status: a.status, environment: 'prod', reason: REASON,
  }));
  // Each agent is also a member of its home team (teams are its parents in Cedar, as for any member).
  await inParallel(model.agents, (a) => must('PUT', `/v1/teams/${a.team}/members/${a.name}`, { reason: REASON }, 200));
  await inParallel(model.resources, (r) => must('POST', '/v1/resources', {
    name: r.name, kind: r.kind, owner_team: r.ownerTeam, classification: r.classification, purposes: r.purposes, reason: REASON,
  }));
}

/** Creates the bench's user policy as a candidate and activates it (its own call), through /v1/policies. */
export async function activatePolicy(call: Call): Promise<void> {
  const created = await call('POST', '/v1/policies', { policies: USER_POLICY, reason: REASON });
  if (created.status === 404) throw new Error('POST /v1/policies is not served by this build (the policies part of issue 11 has not landed)');
  if (created.status !== 201) throw new Error(`POST /v1/policies: ${created.status} ${created.text.slice(0, 400)}`);
  const version = created.body.version as number;
  const activated = await call('POST', `/v1/policies/${version}/activate`, { reason: REASON });
  if (activated.status !== 200) throw new Error(`POST /v1/policies/${version}/activate: ${activated.status} ${activated.text.slice(0, 400)}`);
}

export function factsOf(r: BenchRequest): RequestFacts {
  return {
    purpose: r.purpose || null, delegationChain: [], authMethod: 'private_key_jwt', credentialKind: 'access_token', dpopBound: r.dpop,
    issuedAt: new Date(Date.now() - 30_000), sourceIp: '10.0.0.7', via: 'gateway', workloadId: null,
  };
}

export function decisionRequest(r: BenchRequest, i: number): DecisionRequest {
  return { principal: r.agent.name, action: r.action, resource: { kind: 'registry', ref: r.resource.name, resourceKind: r.resource.kind }, facts: factsOf(r), requestId: `bench-${i}` };
}

export interface InProcessCustos {
  pdp: Pdp;
  actor: Actor;
  requests: DecisionRequest[];
  close(): Promise<void>;
}

export async function startInProcess(model: Model): Promise<InProcessCustos> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-bench-authz-'));
  let cp: ControlPlane | undefined;
  try {
    const config = loadConfig({ dataDir, port: '0', logLevel: 'silent' }, {});
    cp = await createControlPlane(config, { logger: createLogger('silent') });
    const token = cp.bootstrap!.token;
    const app = cp;
    const call: Call = async (method, url, body) => {
      const res = await app.http.inject({
        method: method as 'GET', url,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        payload: body === undefined ? undefined : JSON.stringify(body),
      });
      let parsed: unknown;
      try { parsed = JSON.parse(res.body); } catch { parsed = undefined; }
      return { status: res.statusCode, body: parsed, text: res.body };
    };
    await populate(call, model);
    await activatePolicy(call);
    return {
      pdp: app.authz.pdp,
      // What the audit event names as the asker: the gateway asks on its own behalf for the agent's call.
      actor: systemActor('background'),
      requests: model.requests.map(decisionRequest),
      async close() {
        await app.close();
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await cp?.close().catch(() => undefined);
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}

/** An undici-backed Call against a running server with a bearer token. */
export function httpCall(pool: Pool, token: string): Call {
  return async (method, url, body) => {
    const res = await pool.request({
      method: method as 'GET', path: url,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.body.text();
    let parsed: unknown;
    try { parsed = JSON.parse(text); } catch { parsed = undefined; }
    return { status: res.statusCode, body: parsed, text };
  };
}

/**
 * Custos access tokens for the HTTP requests: one client secret per agent (POST /v1/client-secrets), then one
 * `client_credentials` token per distinct (agent, purpose, DPoP) of the requests, for that purpose, with a DPoP proof
 * (ES256, one key) when the request is DPoP-bound. Only requests a real agent can hold a token for are kept: an
 * active agent, a purpose it holds (the token endpoint refuses others). Returns the token of each kept request.
 */
export async function mintTokens(url: string, call: Call, model: Model, indices: number[]): Promise<Map<number, string>> {
  const { SignJWT, exportJWK, generateKeyPair } = await import('jose');
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const jwk = await exportJWK(publicKey);
  const secrets = new Map<string, string>();
  const tokens = new Map<string, string>();
  const out = new Map<number, string>();
  const pool = new Pool(url, { connections: 8 });
  try {
    const keys = [...new Set(indices.map((i) => { const r = model.requests[i]!; return `${r.agent.name}\u0000${r.purpose}\u0000${r.dpop ? 1 : 0}`; }))];
    for (const name of new Set(keys.map((k) => k.split('\u0000')[0]!))) {
      const res = await call('POST', '/v1/client-secrets', { principal: name, description: 'bench/authz' });
      if (res.status !== 201) throw new Error(`POST /v1/client-secrets for ${name}: ${res.status} ${res.text.slice(0, 300)}`);
      secrets.set(name, res.body.secret as string);
    }
    let next = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < keys.length) {
        const key = keys[next++]!;
        const [name, purpose, dpop] = key.split('\u0000') as [string, string, string];
        const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
        if (dpop === '1') {
          headers.dpop = await new SignJWT({ htm: 'POST', htu: `${url}/oauth/token`, jti: crypto.randomUUID() })
            .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk }).setIssuedAt().sign(privateKey);
        }
        const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: name, client_secret: secrets.get(name)!, purpose });
        const res = await pool.request({ method: 'POST', path: '/oauth/token', headers, body: form.toString() });
        const text = await res.body.text();
        if (res.statusCode !== 200) throw new Error(`client_credentials for ${name} (${purpose}, dpop ${dpop}): ${res.statusCode} ${text.slice(0, 300)}`);
        tokens.set(key, (JSON.parse(text) as { access_token: string }).access_token);
      }
    }));
  } finally {
    await pool.close();
  }
  for (const i of indices) {
    const r = model.requests[i]!;
    out.set(i, tokens.get(`${r.agent.name}\u0000${r.purpose}\u0000${r.dpop ? 1 : 0}`)!);
  }
  return out;
}

/** The requests an agent can hold a token for (see mintTokens): those the HTTP comparison uses. */
export function tokenRequests(model: Model): number[] {
  return model.requests.flatMap((r, i) => (r.agent.status === 'active' && r.purpose !== '' && r.agent.purposes.includes(r.purpose) ? [i] : []));
}

/** One AuthZEN Access Evaluation body: the agent as subject with its token, the resource, the action. */
export function evaluationBody(r: BenchRequest, token: string): string {
  return JSON.stringify({
    subject: { type: 'agent', id: r.agent.name, properties: { token } },
    action: { name: r.action },
    resource: { type: r.resource.kind, id: r.resource.name },
  });
}
