// Audit log core benchmark: canonical encoding, leaf hashing + tree building, inclusion and
// consistency proofs at 1M leaves, and whole-log verification of 1M events.
//
//   npx tsx bench/audit/proofs.ts [events]        (default 1,000,000)
//
// Pure in-memory figures: no database. The store-level figures (acknowledged events/s with group
// commit, bytes per event on disk) belong to the writer's benchmark.
import { canonicalBytes } from '../../src/audit/canonical.js';
import { generateNoteKey, signCheckpoint } from '../../src/audit/checkpoint.js';
import { hashLeaf, verifyConsistency, verifyInclusion } from '../../src/audit/merkle.js';
import { arrayHashReader, createTreeBuilder, proveConsistency, proveInclusion, rootAt } from '../../src/audit/tree-builder.js';
import { verifyLog, type StoredEvent } from '../../src/audit/verify-log.js';

const N = Number(process.argv[2] ?? 1_000_000);
const BATCH = 10_000;
const CHECKPOINT_EVERY = 20_000;
const STORED_LEVELS = [8, 16];

const now = () => performance.now();
const rate = (n: number, ms: number) => `${Math.round((n / ms) * 1000).toLocaleString('en-US')}/s`;
const rows: Array<[string, string]> = [];
const report = (what: string, value: string) => {
  rows.push([what, value]);
  console.log(`${what.padEnd(58)} ${value}`);
};

function syntheticEvent(seq: number) {
  // Shaped like a real decision event: actor with delegation chain, target, reasons, provenance.
  return {
    seq,
    time: new Date(1_790_000_000_000 + seq * 3).toISOString(),
    type: seq % 5 === 0 ? 'authz.decision' : 'gateway.call',
    actor: {
      principal: `agent:${(seq * 7919) % 5000}`,
      credential: `cred_${(seq * 104729) % 100000}`,
      auth_method: 'private_key_jwt',
      delegation: [`user:${seq % 300}`, `agent:${(seq * 7919) % 5000}`],
    },
    action: 'model.invoke',
    target: `model:gpt-${seq % 9}`,
    decision: seq % 13 === 0 ? 'deny' : 'allow',
    reasons: [`policy:p${seq % 40}`],
    purpose: 'support-triage',
    provenance: { ip: `10.0.${seq % 256}.${(seq >> 8) % 256}`, request_id: `req_${seq.toString(36)}` },
    outcome: 'ok',
  };
}

async function main() {
  console.log(`audit core benchmark: ${N.toLocaleString('en-US')} events, node ${process.version}\n`);

  // 1. Canonical encoding (what the writer does per event).
  let t = now();
  const canon: Buffer[] = new Array(N);
  let bytes = 0;
  for (let i = 0; i < N; i++) {
    canon[i] = canonicalBytes(syntheticEvent(i));
    bytes += canon[i]!.length;
  }
  let ms = now() - t;
  report('canonical encoding (RFC 8785) incl. building the object', rate(N, ms));
  report('average canonical event size', `${Math.round(bytes / N)} bytes`);

  // 2. Leaf hash + incremental tree, keeping node hashes at the stored levels.
  const leaves: Buffer[] = new Array(N);
  const nodes = new Map<number, Buffer[]>(STORED_LEVELS.map((l) => [l, []]));
  const builder = createTreeBuilder({ nodeLevels: STORED_LEVELS, onNode: (l, _i, h) => nodes.get(l)!.push(h) });
  t = now();
  for (let i = 0; i < N; i++) {
    const h = hashLeaf(canon[i]!);
    leaves[i] = h;
    builder.append(h);
  }
  const root = builder.root();
  ms = now() - t;
  report('leaf hash + tree append (incl. root)', `${rate(N, ms)} (${ms.toFixed(0)} ms)`);
  report(
    'stored node hashes at levels ' + STORED_LEVELS.join(','),
    `${[...nodes.values()].reduce((a, b) => a + b.length, 0).toLocaleString('en-US')} (${((32 * [...nodes.values()].reduce((a, b) => a + b.length, 0)) / N).toFixed(3)} bytes/event)`,
  );

  // 3. Inclusion proofs at N.
  const plain = arrayHashReader(leaves);
  const withLevels = arrayHashReader(leaves, nodes);
  const index = Math.floor(N * 0.4321);
  for (const [name, reader] of [
    ['leaf hashes only', plain],
    ['with stored levels', withLevels],
  ] as const) {
    const reps = name === 'leaf hashes only' ? 3 : 200;
    t = now();
    let proof: Buffer[] = [];
    for (let r = 0; r < reps; r++) proof = await proveInclusion(reader, (index + r * 7) % N, N);
    ms = (now() - t) / reps;
    report(`inclusion proof at ${N.toLocaleString('en-US')} (${name})`, `${ms.toFixed(3)} ms, ${proof.length} hashes = ${proof.length * 32} bytes`);
  }
  const proof = await proveInclusion(withLevels, index, N);
  t = now();
  for (let r = 0; r < 1000; r++) if (!verifyInclusion(index, N, leaves[index]!, proof, root).ok) throw new Error('inclusion proof failed');
  report('inclusion proof verification', `${((now() - t) / 1000 * 1000).toFixed(1)} µs`);

  // 4. Consistency proofs.
  for (const m of [Math.floor(N / 2) + 12345, N - 1]) {
    const reps = 50;
    t = now();
    let p: Buffer[] = [];
    for (let r = 0; r < reps; r++) p = await proveConsistency(withLevels, m, N);
    ms = (now() - t) / reps;
    const r1 = await rootAt(withLevels, m);
    if (!verifyConsistency(m, N, p, r1, root).ok) throw new Error('consistency proof failed');
    report(`consistency proof ${m.toLocaleString('en-US')} -> ${N.toLocaleString('en-US')} (stored levels)`, `${ms.toFixed(3)} ms, ${p.length} hashes = ${p.length * 32} bytes`);
  }
  t = now();
  const m = Math.floor(N / 2) + 12345;
  await proveConsistency(plain, m, N);
  report(`consistency proof ${m.toLocaleString('en-US')} -> ${N.toLocaleString('en-US')} (leaf hashes only)`, `${(now() - t).toFixed(1)} ms`);

  // 5. Whole-log verification: stored canonical bytes + stored leaf hashes + signed checkpoints.
  const key = generateNoteKey('bench.custos/audit');
  const cpBuilder = createTreeBuilder();
  const checkpoints: string[] = [];
  for (let i = 0; i < N; i++) {
    cpBuilder.append(leaves[i]!);
    if ((i + 1) % CHECKPOINT_EVERY === 0 || i === N - 1) {
      checkpoints.push(signCheckpoint({ origin: 'bench.custos/audit', size: i + 1, rootHash: cpBuilder.root() }, key.signer));
    }
  }
  async function* batches(asText: boolean): AsyncGenerator<StoredEvent[]> {
    for (let s = 0; s < N; s += BATCH) {
      const out: StoredEvent[] = [];
      for (let i = s; i < Math.min(N, s + BATCH); i++) {
        out.push({ seq: i, canonical: asText ? canon[i]!.toString('utf8') : canon[i]!, storedLeafHash: leaves[i]! });
      }
      yield out;
    }
  }
  for (const asText of [false, true]) {
    const src = batches(asText);
    t = now();
    const r = await verifyLog({ events: src, checkpoints, vkey: key.vkey });
    ms = now() - t;
    if (!r.ok) throw new Error(`verify failed: ${JSON.stringify(r.problems.slice(0, 3))}`);
    report(
      `verifyLog, ${checkpoints.length} checkpoints, canonical as ${asText ? 'text' : 'bytes'} (incl. batch building)`,
      `${(ms / 1000).toFixed(2)} s = ${rate(N, ms)}`,
    );
  }
}

await main();
