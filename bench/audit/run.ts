// Audit log benchmark: acknowledged events/s with 64 concurrent writers (audit before response, group commit)
// on SQLite and PostgreSQL, bytes per event, verification rate and proof cost at 1,000,000 events.
// Usage: npm run bench -- audit [--events 1000000] [--seconds 5]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import pg from 'pg';
import { createControlPlane, type ControlPlane } from '../../src/app.js';
import { verifyStore } from '../../src/audit/verify-store.js';
import { verifyInclusion } from '../../src/audit/merkle.js';
import { systemActor } from '../../src/platform/actor.js';
import { loadConfig } from '../../src/platform/config.js';
import { createLogger } from '../../src/platform/logger.js';
import { median, percentile, round } from '../registry/stats.js';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const SECONDS = arg('seconds', 5);
const BIG = arg('events', 1_000_000);
const WRITERS = 64;
const RUNS = arg('runs', 3);
const PG_ADMIN = 'postgres://postgres@127.0.0.1:5432/postgres';
const TESSERA_POSIX_WRITES_PER_S = 2900; // published anchor, 12 cores

async function open(backend: 'sqlite' | 'postgres'): Promise<{ cp: ControlPlane; dataDir: string; dbName?: string }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-bench-audit-'));
  let databaseUrl: string | undefined;
  let dbName: string | undefined;
  if (backend === 'postgres') {
    dbName = `custos_bench_${Date.now()}`;
    const c = new pg.Client(PG_ADMIN);
    await c.connect();
    await c.query(`create database ${dbName}`);
    await c.end();
    databaseUrl = PG_ADMIN.replace(/\/postgres$/, `/${dbName}`);
  }
  const config = loadConfig({ dataDir, databaseUrl, logLevel: 'silent' }, {});
  return { cp: await createControlPlane(config, { logger: createLogger('silent') }), dataDir, dbName };
}

async function dispose(h: { cp: ControlPlane; dataDir: string; dbName?: string }) {
  await h.cp.close();
  fs.rmSync(h.dataDir, { recursive: true, force: true });
  if (h.dbName) {
    const c = new pg.Client(PG_ADMIN);
    await c.connect();
    await c.query(`drop database if exists ${h.dbName} with (force)`);
    await c.end();
  }
}

const actor = systemActor('background');
const record = (cp: ControlPlane, i: number) => cp.db.write((trx, batch) => cp.audit.record(trx, batch, {
  type: 'bench.event', action: 'model.invoke', actor, outcome: 'success', decision: 'allow',
  target: { type: 'resource', id: '01a21c2c-0d76-76a2-91c3-0806a9eca393', name: 'gpt-prod' },
  reasons: ['policy:allow-support-bots'], purpose: 'customer-support', details: { i, tokens: 512 },
}));

async function storm(cp: ControlPlane, seconds: number) {
  const waits: number[] = [];
  const deadline = performance.now() + seconds * 1000;
  let n = 0;
  await Promise.all(Array.from({ length: WRITERS }, async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      await record(cp, n++);
      waits.push(performance.now() - t0);
    }
  }));
  return { perSecond: waits.length / seconds, p50: percentile(waits, 50), p99: percentile(waits, 99) };
}

async function bytesPerEvent(h: { cp: ControlPlane; dataDir: string }): Promise<number> {
  const count = Number((await h.cp.db.kysely.selectFrom('audit_events').select(sql<number>`count(*)`.as('n')).executeTakeFirstOrThrow()).n);
  if (h.cp.db.dialect === 'sqlite') {
    await sql`pragma wal_checkpoint(truncate)`.execute(h.cp.db.kysely);
    const rows = await sql<{ name: string; size: number }>`select name, sum(pgsize) as size from dbstat where name like 'audit_%' or name like 'sqlite_autoindex_audit_%' group by name`.execute(h.cp.db.kysely).catch(() => undefined);
    const total = rows ? rows.rows.reduce((a, r) => a + Number(r.size), 0) : fs.statSync(path.join(h.dataDir, 'custos.db')).size;
    return total / count;
  }
  const r = await sql<{ size: string }>`select sum(pg_total_relation_size(c.oid))::text as size from pg_class c where c.relname in ('audit_events', 'audit_delegation', 'audit_nodes', 'audit_checkpoints')`.execute(h.cp.db.kysely);
  return Number(r.rows[0]!.size) / count;
}

const results: Record<string, unknown> = {};

for (const backend of ['sqlite', 'postgres'] as const) {
  const rates: number[] = [];
  const p50s: number[] = [];
  const p99s: number[] = [];
  let bpe = 0;
  for (let run = 0; run < RUNS; run++) {
    const h = await open(backend);
    const r = await storm(h.cp, SECONDS);
    rates.push(r.perSecond);
    p50s.push(r.p50);
    p99s.push(r.p99);
    if (run === RUNS - 1) bpe = await bytesPerEvent(h);
    await dispose(h);
  }
  results[backend] = {
    events_per_s_median: round(median(rates), 0), runs: rates.map((x) => round(x, 0)),
    wait_p50_ms: round(median(p50s)), wait_p99_ms: round(median(p99s)), bytes_per_event: round(bpe, 0),
    ratio_vs_tessera_posix_anchor: round(median(rates) / TESSERA_POSIX_WRITES_PER_S),
  };
  console.log(`${backend}: ${round(median(rates), 0)} acknowledged events/s with ${WRITERS} writers (runs ${rates.map((x) => round(x, 0)).join(', ')}), wait p50 ${round(median(p50s))} ms p99 ${round(median(p99s))} ms, ${round(bpe, 0)} bytes/event; ${round(median(rates) / TESSERA_POSIX_WRITES_PER_S)}x the published Trillian Tessera POSIX anchor (~${TESSERA_POSIX_WRITES_PER_S}/s on 12 cores; not run here)`);
}

// 1M events on SQLite: fill fast through the real writer, then checkpoint, verify and prove.
{
  const h = await open('sqlite');
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: WRITERS }, async () => {
    while (next < BIG) await record(h.cp, next++);
  }));
  const fillS = (performance.now() - t0) / 1000;
  const c0 = performance.now();
  await h.cp.checkpointer.checkpointNow();
  const checkpointS = (performance.now() - c0) / 1000;
  const size = h.cp.checkpointer.size();
  const proofTimes: number[] = [];
  let proofBytes = 0;
  const service = (await import('../../src/audit/audit.service.js')).createAuditService;
  const { loadOrCreateLogKey } = await import('../../src/audit/log-key.js');
  const { createKeyRing, loadMasterKey } = await import('../../src/platform/keys.js');
  const key = await loadOrCreateLogKey(h.cp.db, createKeyRing(loadMasterKey(h.dataDir, undefined)!));
  const audit = service({ db: h.cp.db, key, audit: h.cp.audit });
  for (let i = 0; i < 50; i++) {
    const seq = Math.floor((i / 50) * size);
    const p0 = performance.now();
    const proof = await audit.inclusionProof(seq, size);
    proofTimes.push(performance.now() - p0);
    proofBytes = proof.proof.length * 32;
    const ok = verifyInclusion(seq, size, Buffer.from(proof.leaf_hash, 'base64'), proof.proof.map((p) => Buffer.from(p, 'base64')), Buffer.from(proof.root_hash, 'base64'));
    if (!ok.ok) throw new Error(`proof for ${seq} did not verify`);
  }
  const v0 = performance.now();
  const report = await verifyStore({ dataDir: h.dataDir });
  const verifyS = (performance.now() - v0) / 1000;
  if (!report.ok) throw new Error('verification failed on the bench log');
  results.million = {
    events: size, fill_events_per_s: round(size / fillS, 0), checkpoint_integrate_s: round(checkpointS),
    verify_s: round(verifyS), verify_events_per_s: round(size / verifyS, 0),
    inclusion_proof_p50_ms: round(median(proofTimes)), inclusion_proof_p99_ms: round(percentile(proofTimes, 99)), inclusion_proof_bytes: proofBytes,
  };
  console.log(`1M log (SQLite): filled ${size} events at ${round(size / fillS, 0)}/s; first checkpoint integrates in ${round(checkpointS)} s; verify ${round(verifyS)} s (${round(size / verifyS, 0)} events/s); inclusion proof p50 ${round(median(proofTimes))} ms, ${proofBytes} bytes`);
  await dispose(h);
}

fs.writeFileSync(path.join(import.meta.dirname, 'results.json'), JSON.stringify({ when: new Date().toISOString(), cpus: os.cpus().length, ...results }, null, 2) + '\n');
