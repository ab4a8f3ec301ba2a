import { describe, expect, it } from 'vitest';
import { canonicalBytes } from './canonical.js';
import { generateNoteKey, signCheckpoint } from './checkpoint.js';
import { hashLeaf, rootFromLeafHashes } from './merkle.js';
import { createTreeBuilder } from './tree-builder.js';
import { verifyLog, type StoredEvent } from './verify-log.js';

const ORIGIN = 'custos.test/audit';
const key = generateNoteKey(ORIGIN);

type Log = { events: StoredEvent[]; checkpoints: string[] };

function event(seq: number, extra: Record<string, unknown> = {}) {
  return { seq, type: 'registry.change', actor: { principal: `p${seq % 7}` }, target: `r${seq}`, outcome: 'ok', ...extra };
}

function stored(seq: number, ev: object = event(seq)): StoredEvent {
  const canonical = canonicalBytes(ev);
  return { seq, canonical, storedLeafHash: hashLeaf(canonical) };
}

function checkpointAt(events: readonly StoredEvent[], size: number, signer = key.signer): string {
  const root = rootFromLeafHashes(events.slice(0, size).map((e) => hashLeaf(e.canonical as Uint8Array)));
  return signCheckpoint({ origin: ORIGIN, size, rootHash: root }, signer);
}

/** A log of n events with a signed checkpoint every `every` events and at the end. */
function makeLog(n: number, every = 10): Log {
  const events = Array.from({ length: n }, (_, i) => stored(i));
  const sizes = new Set<number>();
  for (let s = every; s <= n; s += every) sizes.add(s);
  sizes.add(n);
  return { events, checkpoints: [...sizes].map((s) => checkpointAt(events, s)) };
}

function verify(log: Log, extra: Partial<Parameters<typeof verifyLog>[0]> = {}) {
  return verifyLog({ events: log.events, checkpoints: log.checkpoints, vkey: key.vkey, ...extra });
}

describe('verifyLog on an untouched log', () => {
  it('passes and recomputes the root', async () => {
    const log = makeLog(95);
    const r = await verify(log);
    expect(r.problems).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.size).toBe(95);
    expect(r.firstBadSeq).toBeNull();
    expect(r.rootHash.equals(rootFromLeafHashes(log.events.map((e) => e.storedLeafHash as Buffer)))).toBe(true);
    expect(r.checkpoints).toEqual({ valid: 10, invalid: 0, matched: 10, largestSize: 95 });
  });

  it('accepts events as objects, as canonical text with hex hashes, and in batches from an async source', async () => {
    const log = makeLog(40);
    async function* batches() {
      for (let i = 0; i < 40; i += 16) {
        yield log.events.slice(i, i + 16).map((e, j) =>
          j % 2 === 0
            ? { seq: e.seq, canonical: event(e.seq) }
            : { seq: e.seq, canonical: Buffer.from(e.canonical as Uint8Array).toString('utf8'), storedLeafHash: (e.storedLeafHash as Buffer).toString('hex') },
        );
      }
    }
    const r = await verifyLog({ events: batches(), checkpoints: log.checkpoints, vkey: key.vkey });
    expect(r.ok).toBe(true);
    expect(r.checkpoints.matched).toBe(4);
  });

  it('an empty log with a size-0 checkpoint passes; with a wrong size-0 root it fails', async () => {
    const ok = await verifyLog({ events: [], checkpoints: [checkpointAt([], 0)], vkey: key.vkey });
    expect(ok.ok).toBe(true);
    const bad = signCheckpoint({ origin: ORIGIN, size: 0, rootHash: hashLeaf(Buffer.from('x')) }, key.signer);
    const r = await verifyLog({ events: [], checkpoints: [bad], vkey: key.vkey });
    expect(r.ok).toBe(false);
    expect(r.problems[0]!.kind).toBe('edited');
  });

  it('passes when the against checkpoint is older than the log', async () => {
    const log = makeLog(60);
    const saved = checkpointAt(log.events, 33);
    expect((await verify(log, { against: [saved] })).ok).toBe(true);
  });
});

describe('verifyLog tamper matrix', () => {
  it('edited event (stored hash untouched): names the exact seq', async () => {
    const log = makeLog(100);
    log.events[37] = { ...log.events[37]!, canonical: canonicalBytes(event(37, { outcome: 'denied' })) };
    const r = await verify(log);
    expect(r.ok).toBe(false);
    expect(r.firstBadSeq).toBe(37);
    expect(r.problems).toHaveLength(1); // checkpoints still match the stored hashes
    expect(r.problems[0]).toMatchObject({ kind: 'edited', seq: 37 });
  });

  it('edited event with its stored hash rewritten: names the checkpoint interval', async () => {
    const log = makeLog(100);
    log.events[37] = stored(37, event(37, { outcome: 'denied' }));
    const r = await verify(log);
    expect(r.firstBadSeq).toBe(30);
    expect(r.problems).toHaveLength(1); // later checkpoints diverge as a consequence, reported once
    expect(r.problems[0]).toMatchObject({ kind: 'edited', seq: 30, range: [30, 40] });
  });

  it('two independent edits: both found, the first named', async () => {
    const log = makeLog(100);
    log.events[81] = { ...log.events[81]!, canonical: canonicalBytes(event(81, { x: 1 })) };
    log.events[12] = { ...log.events[12]!, canonical: canonicalBytes(event(12, { x: 1 })) };
    const r = await verify(log);
    expect(r.firstBadSeq).toBe(12);
    expect(r.problems.map((p) => p.seq)).toEqual([12, 81]);
  });

  it('a stored hash that is not a hash is an edit', async () => {
    const log = makeLog(20);
    log.events[3] = { ...log.events[3]!, storedLeafHash: 'zz' };
    const r = await verify(log);
    expect(r.problems[0]).toMatchObject({ kind: 'edited', seq: 3 });
  });

  it('deleted event (gap in seq): names the missing seq', async () => {
    const log = makeLog(100);
    log.events.splice(58, 1);
    const r = await verify(log);
    expect(r.firstBadSeq).toBe(58);
    expect(r.problems).toEqual([expect.objectContaining({ kind: 'deleted', seq: 58 })]);
  });

  it('deleted event with later events renumbered: names the seq from the events own seq field', async () => {
    const log = makeLog(100);
    const kept = log.events.filter((_, i) => i !== 58).map((e, i) => ({ ...e, seq: i }));
    const r = await verify({ events: kept, checkpoints: log.checkpoints });
    expect(r.firstBadSeq).toBe(58);
    expect(r.problems[0]).toMatchObject({ kind: 'deleted', seq: 58 });
  });

  it('reordered events (out of order in the store): names the first position', async () => {
    const log = makeLog(100);
    const [a, b] = [log.events[44]!, log.events[45]!];
    log.events[44] = b;
    log.events[45] = a;
    const r = await verify(log);
    expect(r.firstBadSeq).toBe(44);
    expect(r.problems).toEqual([expect.objectContaining({ kind: 'reordered', seq: 44 })]);
  });

  it('repeated seq is reported as reordered', async () => {
    const log = makeLog(30);
    log.events.splice(10, 0, log.events[9]!);
    const r = await verify(log);
    expect(r.problems[0]).toMatchObject({ kind: 'reordered', seq: 10 });
  });

  it('two events swapped with their seq numbers rewritten: names the first from the events own seq field', async () => {
    const log = makeLog(100);
    const swapped = log.events.map((e) => ({ ...e }));
    swapped[44] = { ...log.events[47]!, seq: 44 };
    swapped[47] = { ...log.events[44]!, seq: 47 };
    const r = await verify({ events: swapped, checkpoints: log.checkpoints });
    expect(r.firstBadSeq).toBe(44);
    expect(r.problems[0]).toMatchObject({ kind: 'reordered', seq: 44 });
    // Without the events' own seq field only the checkpoint interval can be named.
    const r2 = await verify({ events: swapped, checkpoints: log.checkpoints }, { seqField: null });
    expect(r2.problems[0]).toMatchObject({ kind: 'edited', seq: 40, range: [40, 50] });
  });

  it('truncated tail: names the first missing seq', async () => {
    const log = makeLog(100);
    log.events.length = 93;
    const r = await verify(log);
    expect(r.firstBadSeq).toBe(93);
    expect(r.problems).toEqual([expect.objectContaining({ kind: 'truncated', seq: 93 })]);
  });

  it('rollback to an earlier copy (log and its checkpoints restored from a backup): caught --against a saved checkpoint', async () => {
    const full = makeLog(100);
    const saved = checkpointAt(full.events, 100);
    const backup = makeLog(70); // same first 70 events, checkpoints of that time
    expect((await verify(backup)).ok).toBe(true); // self-consistent on its own
    const r = await verify(backup, { against: [saved] });
    expect(r.firstBadSeq).toBe(70);
    expect(r.problems).toEqual([expect.objectContaining({ kind: 'rollback', seq: 70 })]);
  });

  it('rollback then re-extended past the saved size: caught as inconsistent with the saved checkpoint', async () => {
    const original = makeLog(100);
    const savedEarly = checkpointAt(original.events, 40);
    const saved = checkpointAt(original.events, 80);
    // Restored at 50, then different events written from 50 on and freshly checkpointed.
    const events = [...original.events.slice(0, 50), ...Array.from({ length: 60 }, (_, i) => stored(50 + i, event(50 + i, { forked: true })))];
    const fork: Log = { events, checkpoints: [60, 80, 110].map((s) => checkpointAt(events, s)) };
    const r = await verify(fork, { against: [savedEarly, saved] });
    expect(r.problems).toEqual([expect.objectContaining({ kind: 'split-view', seq: 40, range: [40, 80] })]);
    const r2 = await verify({ events, checkpoints: [110].map((s) => checkpointAt(events, s)) }, { against: [savedEarly, saved] });
    expect(r2.problems).toEqual([expect.objectContaining({ kind: 'rollback', seq: 40, range: [40, 80] })]);
  });

  it('two different signed roots for one size (split view) in the log itself', async () => {
    const log = makeLog(50);
    const other = log.events.map((e, i) => (i === 25 ? stored(25, event(25, { other: true })) : e));
    log.checkpoints.push(checkpointAt(other, 30));
    const r = await verify(log);
    expect(r.problems).toEqual([expect.objectContaining({ kind: 'split-view', checkpoint: expect.objectContaining({ size: 30 }) })]);
    expect(r.ok).toBe(false);
  });

  it('split view for a size beyond the log is still reported', async () => {
    const log = makeLog(50);
    const longer = [...log.events, ...Array.from({ length: 20 }, (_, i) => stored(50 + i))];
    const fork = [...log.events, ...Array.from({ length: 20 }, (_, i) => stored(50 + i, event(50 + i, { f: 1 })))];
    const r = await verify(log, { against: [checkpointAt(longer, 70), checkpointAt(fork, 70)] });
    expect(r.problems.map((p) => p.kind)).toEqual(['split-view', 'rollback']);
  });

  it('a checkpoint with a bad signature, another key, another origin or bad syntax is reported', async () => {
    const log = makeLog(30);
    const good = log.checkpoints[1]!;
    const sigStart = good.lastIndexOf(' ') + 1;
    const sig = Buffer.from(good.slice(sigStart, -1), 'base64');
    sig[20]! ^= 0xff;
    const forged = good.slice(0, sigStart) + sig.toString('base64') + '\n';
    const stranger = checkpointAt(log.events, 20, generateNoteKey(ORIGIN).signer);
    const otherOrigin = signCheckpoint({ origin: 'elsewhere', size: 20, rootHash: Buffer.alloc(32) }, key.signer);
    const r = await verify({ ...log, checkpoints: [...log.checkpoints, forged, stranger, otherOrigin, 'garbage'] });
    expect(r.problems.map((p) => [p.kind, p.seq])).toEqual([
      ['bad-checkpoint', null],
      ['bad-checkpoint', null],
      ['bad-checkpoint', null],
      ['bad-checkpoint', null],
    ]);
    expect(r.problems.map((p) => p.message.match(/\((\w+)\)/)?.[1])).toEqual([
      'bad_signature',
      'no_trusted_signature',
      'origin_mismatch',
      'malformed_note',
    ]);
    expect(r.ok).toBe(false);
    expect(r.firstBadSeq).toBeNull();
    expect(r.checkpoints.invalid).toBe(4);
  });

  it('a bad --against checkpoint is reported, not trusted', async () => {
    const log = makeLog(30);
    const stranger = checkpointAt(log.events, 30, generateNoteKey(ORIGIN).signer);
    const r = await verify(log, { against: [stranger] });
    expect(r.problems).toEqual([expect.objectContaining({ kind: 'bad-checkpoint', checkpoint: { source: 'against', index: 0 } })]);
  });
});

describe('verifyLog after pruning (start state)', () => {
  it('verifies the remaining events from a saved tree state', async () => {
    const log = makeLog(100);
    const b = createTreeBuilder();
    for (const e of log.events.slice(0, 40)) b.append(e.storedLeafHash as Buffer);
    const start = b.state();
    const rest = log.events.slice(40);
    const r = await verify({ events: rest, checkpoints: log.checkpoints }, { start });
    expect(r.problems).toEqual([]);
    expect(r.size).toBe(100);
    expect(r.checkpoints.matched).toBe(7); // sizes 40..100; 10..30 lie in the pruned prefix

    rest[25] = { ...rest[25]!, canonical: canonicalBytes(event(65, { x: 1 })) };
    expect((await verify({ events: rest, checkpoints: log.checkpoints }, { start })).firstBadSeq).toBe(65);

    const wrong = createTreeBuilder();
    for (const e of log.events.slice(1, 41)) wrong.append(e.storedLeafHash as Buffer);
    const r3 = await verify({ events: log.events.slice(40), checkpoints: log.checkpoints }, { start: wrong.state() });
    expect(r3.ok).toBe(false);
    expect(r3.problems[0]).toMatchObject({ kind: 'edited', seq: null, message: expect.stringMatching(/starting tree state/) });
  });
});

describe('verifyLog across an audited recovery', () => {
  /** Events 0..19 signed at 20, events 15..19 lost, recovery at 20 resuming from the tree at 20, one event after. */
  function recovered(acknowledged: Array<{ kind: string; seq: number }>) {
    const original = makeLog(20, 20);
    const tree = createTreeBuilder();
    for (const e of original.events) tree.append(hashLeaf(e.canonical as Uint8Array));
    const resume = tree.state();
    const recovery = stored(20, {
      seq: 20, type: 'audit.recovered', v: 1,
      details: { problems: acknowledged, resume_state: { size: 20, frontier: resume.frontier.map((h) => h.toString('base64')) } },
    });
    tree.append(hashLeaf(recovery.canonical as Uint8Array));
    const after = stored(21);
    tree.append(hashLeaf(after.canonical as Uint8Array));
    const events = [...original.events.slice(0, 15), recovery, after];
    const checkpoints = [...original.checkpoints, signCheckpoint({ origin: ORIGIN, size: 22, rootHash: tree.root() }, key.signer)];
    return { events, checkpoints };
  }

  it('resumes from the recovery tree state after the gap; the gap it recorded is acknowledged, the log is ok', async () => {
    const r = await verify(recovered([{ kind: 'truncated', seq: 15 }]));
    expect(r.size).toBe(22);
    expect(r.ok).toBe(true);
    expect(r.problems).toEqual([expect.objectContaining({ kind: 'deleted', seq: 15, acknowledgedBy: 20 })]);
    expect(r.recoveries).toEqual([{ seq: 20, acknowledged: [{ kind: 'truncated', seq: 15 }] }]);
    expect(r.checkpoints.matched).toBe(2);
  });

  it('a problem the recovery did not record stays a failure, and a later edit before it is not covered by it', async () => {
    const other = await verify(recovered([{ kind: 'edited', seq: 3 }]));
    expect(other.ok).toBe(false);
    expect(other.unacknowledged).toBe(1);
    const log = recovered([{ kind: 'deleted', seq: 15 }]);
    // Event 4's bytes edited later, its stored hash left alone.
    const edited = { ...log, events: log.events.map((e) => (e.seq === 4 ? { ...stored(4, event(4, { outcome: 'forged' })), storedLeafHash: e.storedLeafHash! } : e)) };
    const r = await verify(edited);
    expect(r.ok).toBe(false);
    expect(r.problems.find((p) => p.seq === 4)).toMatchObject({ kind: 'edited' });
    expect(r.problems.find((p) => p.seq === 4)?.acknowledgedBy).toBeUndefined();
  });
});
