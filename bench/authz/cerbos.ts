// The Cerbos PDP (its npm binary package @cerbos/cerbos-<os>-<arch>, installed by cerbosBinary on first use; no
// install script) started as its own process on loopback with the bench model as Cerbos policies, audit off, and
// asked over its HTTP API (`POST /api/check/resources`, one resource and one action per request, as one AuthZEN
// evaluation is).
//
// The model in Cerbos terms: the agent is the principal (role `agent`; attributes team, purposes, status, and the
// request's purpose and DPoP binding — Cerbos has no request context apart from the principal and resource
// attributes and auxData's JWT, so the request's facts travel as principal attributes); the model or dataset is the
// resource (kinds `model`, `dataset`; attributes owner_team, classification, purposes). Two derived roles
// (owning team, allowed purpose) grant invoke/read; three EFFECT_DENY rules (inactive agent, restricted without
// DPoP, restricted without an allowed and held purpose) win over them, as Cerbos lets a deny win.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Pool } from 'undici';
import type { BenchRequest, Model } from './model.js';

const DERIVED_ROLES = `apiVersion: api.cerbos.dev/v1
derivedRoles:
  name: bench_roles
  definitions:
    - name: owning_team
      parentRoles: [agent]
      condition:
        match:
          expr: request.principal.attr.team != "" && request.principal.attr.team == request.resource.attr.owner_team
    - name: purpose_allowed
      parentRoles: [agent]
      condition:
        match:
          expr: request.principal.attr.request_purpose != "" && request.principal.attr.request_purpose in request.resource.attr.purposes
`;

const resourcePolicy = (kind: string) => `apiVersion: api.cerbos.dev/v1
resourcePolicy:
  version: default
  resource: ${kind}
  importDerivedRoles: [bench_roles]
  rules:
    - actions: [invoke, read]
      effect: EFFECT_ALLOW
      derivedRoles: [owning_team, purpose_allowed]
    - actions: ["*"]
      effect: EFFECT_DENY
      roles: ["*"]
      name: inactive-principal
      condition:
        match:
          expr: request.principal.attr.status != "active"
    - actions: ["*"]
      effect: EFFECT_DENY
      roles: ["*"]
      name: restricted-needs-bound-token
      condition:
        match:
          all:
            of:
              - expr: request.resource.attr.classification == "restricted"
              - expr: "!request.principal.attr.dpop_bound"
    - actions: ["*"]
      effect: EFFECT_DENY
      roles: ["*"]
      name: restricted-needs-allowed-purpose
      condition:
        match:
          all:
            of:
              - expr: request.resource.attr.classification == "restricted"
              - expr: >-
                  !(request.principal.attr.request_purpose != "" &&
                  request.principal.attr.request_purpose in request.resource.attr.purposes &&
                  request.principal.attr.request_purpose in request.principal.attr.purposes)
`;

/** The body of one check: one principal, one resource, one action. */
export function cerbosBody(r: BenchRequest, i: number): string {
  return JSON.stringify({
    requestId: `bench-${i}`,
    principal: {
      id: r.agent.name, roles: ['agent'],
      attr: { team: r.agent.team, purposes: r.agent.purposes, status: r.agent.status, request_purpose: r.purpose, dpop_bound: r.dpop },
    },
    resources: [{ actions: [r.action], resource: { kind: r.resource.kind, id: r.resource.name, attr: { owner_team: r.resource.ownerTeam, classification: r.resource.classification, purposes: r.resource.purposes } } }],
  });
}

/** Allow or deny out of a check answer for the one action asked. */
export function cerbosDecision(text: string, action: string): boolean {
  const body = JSON.parse(text) as { results?: Array<{ actions?: Record<string, string> }> };
  const effect = body.results?.[0]?.actions?.[action];
  if (effect !== 'EFFECT_ALLOW' && effect !== 'EFFECT_DENY') throw new Error(`cerbos answered no effect for ${action}: ${text.slice(0, 300)}`);
  return effect === 'EFFECT_ALLOW';
}

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface CerbosServer {
  url: string;
  pid: number;
  version: string;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** The Cerbos release the bench runs (its npm binary package, @cerbos/cerbos-<os>-<arch>). */
export const CERBOS_VERSION = '0.51.0';

/**
 * The Cerbos binary. It is not a dependency of this project: npm's lock file would have to name the binary package of
 * every platform, and a registry mirror that carries only this platform's makes `npm ci` fail. The bench installs
 * this platform's package on first use into bench/.work/cerbos (npm, the same registry) and runs it from there.
 */
export function cerbosBinary(): string {
  const pkg = `@cerbos/cerbos-${process.platform}-${process.arch}`;
  const prefix = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '.work', 'cerbos');
  const from = () => createRequire(path.join(prefix, 'package.json')).resolve(pkg);
  try {
    return from();
  } catch {
    fs.mkdirSync(prefix, { recursive: true });
    if (!fs.existsSync(path.join(prefix, 'package.json'))) fs.writeFileSync(path.join(prefix, 'package.json'), '{"private":true}\n');
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    try {
      execFileSync(npm, ['install', '--prefix', prefix, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', `${pkg}@${CERBOS_VERSION}`], { stdio: ['ignore', 'ignore', 'inherit'] });
      return from();
    } catch (error) {
      throw new Error(`the Cerbos binary package ${pkg}@${CERBOS_VERSION} could not be installed into ${prefix}`, { cause: error });
    }
  }
}

/** Cerbos `server` with the bench policies on disk, audit and telemetry off, HTTP on a free loopback port. */
export async function startCerbos(): Promise<CerbosServer> {
  const bin = cerbosBinary();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-bench-cerbos-'));
  const policies = path.join(dir, 'policies');
  fs.mkdirSync(policies);
  fs.writeFileSync(path.join(policies, 'derived_roles.yaml'), DERIVED_ROLES);
  fs.writeFileSync(path.join(policies, 'model.yaml'), resourcePolicy('model'));
  fs.writeFileSync(path.join(policies, 'dataset.yaml'), resourcePolicy('dataset'));
  const [httpPort, grpcPort] = [await freePort(), await freePort()];
  fs.writeFileSync(path.join(dir, 'config.yaml'), [
    'server:',
    `  httpListenAddr: "127.0.0.1:${httpPort}"`,
    `  grpcListenAddr: "127.0.0.1:${grpcPort}"`,
    'storage:',
    '  driver: disk',
    '  disk:',
    `    directory: ${JSON.stringify(policies)}`,
    '    watchForChanges: false',
    'audit:',
    '  enabled: false',
    'telemetry:',
    '  disabled: true',
    '',
  ].join('\n'));
  const version = (await new Promise<string>((resolve) => {
    const v = spawn(bin, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    v.stdout.on('data', (c) => (out += c));
    v.on('exit', () => resolve(out.split('\n')[0]!.trim()));
  }));
  const child = spawn(bin, ['server', `--config=${path.join(dir, 'config.yaml')}`, '--log-level=warn'], {
    stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, CERBOS_NO_TELEMETRY: '1' },
  });
  live.add(child);
  let tail = '';
  child.stderr!.on('data', (c: Buffer) => (tail = (tail + c.toString()).slice(-4000)));
  const url = `http://127.0.0.1:${httpPort}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    live.delete(child);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`cerbos exited ${child.exitCode}: ${tail}`);
    try {
      const res = await fetch(`${url}/_cerbos/health`);
      if (res.ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`cerbos did not become healthy in 30 s: ${tail}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url, pid: child.pid!, version, stop };
}

/** Every request of the model once through Cerbos, compared with the reference decision (before any timing). */
export async function checkCerbos(server: CerbosServer, model: Model): Promise<number> {
  const pool = new Pool(server.url, { connections: 8 });
  let wrong = 0;
  try {
    let next = 0;
    const worker = async () => {
      while (next < model.requests.length) {
        const i = next++;
        const r = model.requests[i]!;
        const res = await pool.request({ method: 'POST', path: '/api/check/resources', headers: { 'content-type': 'application/json' }, body: cerbosBody(r, i) });
        const text = await res.body.text();
        if (res.statusCode !== 200) throw new Error(`cerbos: ${res.statusCode} ${text.slice(0, 300)}`);
        if (cerbosDecision(text, r.action) !== model.expected[i]) wrong++;
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
  } finally {
    await pool.close();
  }
  return wrong;
}
