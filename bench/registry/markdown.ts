// Prints bench/registry/results.json as the Markdown table used in docs/benchmarks.md:
//   npx tsx bench/registry/markdown.ts [results.json]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface Lat { p50_ms: number; p99_ms: number }
interface Medians {
  runs: number;
  idle_rss_mb: number;
  create_per_second: number;
  create_p50_ms: number;
  create_p99_ms: number;
  server_cpu_ms_per_create: number;
  client_cpu_ms_per_create: number;
  populate_per_second: number;
  rss_at_population_mb: number;
  rss_after_lists_mb: number;
  list: Record<string, Lat>;
  list_after_analyze?: Record<string, Lat>;
}

const here = path.dirname(fileURLToPath(import.meta.url));
const file = process.argv[2] ?? path.join(here, 'results.json');
const r = JSON.parse(fs.readFileSync(file, 'utf8')) as {
  commit: string; generated_at: string; machine: { cpus: number; cpu_model: string; memory_gb: number; node: string };
  settings: { concurrency: number; population: number }; medians: Record<string, Medians>;
  aims: Array<{ aim: string; backend: string; value: number; met: boolean }>; postgres_autovacuum: string | null;
};
const backends = Object.keys(r.medians);
const lines: string[] = [];
const row = (label: string, f: (m: Medians) => string) => lines.push(`| ${label} | ${backends.map((b) => f(r.medians[b]!)).join(' | ')} |`);
const lat = (l: Lat | undefined) => (l ? `${l.p50_ms} / ${l.p99_ms}` : '–');

lines.push(`Commit ${r.commit}, ${r.generated_at.slice(0, 10)}; ${r.machine.cpus} vCPU ${r.machine.cpu_model}, ${r.machine.memory_gb} GB, Node ${r.machine.node}; ` +
  `medians of ${backends.map((b) => `${r.medians[b]!.runs} ${b}`).join(' and ')} runs. PostgreSQL 15 on the same host (autovacuum ${r.postgres_autovacuum ?? 'n/a'}).`, '');
lines.push(`| figure | ${backends.join(' | ')} |`, `|---|${backends.map(() => '---').join('|')}|`);
row(`creates/s (${r.settings.concurrency} in flight)`, (m) => String(m.create_per_second));
row('create latency p50 / p99 ms', (m) => `${m.create_p50_ms} / ${m.create_p99_ms}`);
row('server / client CPU ms per create', (m) => `${m.server_cpu_ms_per_create} / ${m.client_cpu_ms_per_create}`);
row(`populate to ${r.settings.population}: creates/s`, (m) => String(m.populate_per_second));
for (const name of Object.keys(r.medians[backends[0]!]!.list)) row(`list \`${name}\` p50 / p99 ms`, (m) => lat(m.list[name]));
if (backends.some((b) => r.medians[b]!.list_after_analyze)) {
  for (const name of Object.keys(r.medians[backends[0]!]!.list)) row(`list \`${name}\` after ANALYZE p50 / p99 ms`, (m) => lat(m.list_after_analyze?.[name]));
}
row('server RSS idle MB', (m) => String(m.idle_rss_mb));
row(`server RSS at ${r.settings.population} principals MB`, (m) => String(m.rss_at_population_mb));
row('server RSS after the list queries MB', (m) => String(m.rss_after_lists_mb));
lines.push('', '| aim | store | measured | |', '|---|---|---|---|');
for (const a of r.aims) lines.push(`| ${a.aim} | ${a.backend} | ${a.value} | ${a.met ? 'met' : '**missed**'} |`);
process.stdout.write(lines.join('\n') + '\n');
