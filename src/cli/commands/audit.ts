import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import {
  archiveDigest, hashLeafText, openCheckpoint, parseState, parseVerifierKey, verifyArchive, verifyConsistency, verifyInclusion, verifyLog,
  type AuditArchive, type SerializedState, type VerifyReport,
} from '../../audit/verification.js';
import type { ApiClient } from '../client.js';
import { CliError } from '../client.js';
import { defined, examples, fetchPages, pageOptions, withClient, writeOutput } from '../common.js';
import { createKeyRing, loadMasterKey } from '../../platform/keys.js';
import { printJson, printTable, type CliIo } from '../output.js';

type Event = Record<string, any>;

// OUTCOME is how the event ended (success/failure); DECISION the decision point's verdict, when there was one.
const eventRow = (e: Event) => [
  e.seq, e.time, e.type, e.actor?.principal_name ?? e.actor?.principal_id ?? '', e.target ? `${e.target.type}:${e.target.name ?? e.target.id}` : '',
  e.decision ?? '', e.outcome,
];
const HEAD = ['SEQ', 'TIME', 'TYPE', 'ACTOR', 'TARGET', 'DECISION', 'OUTCOME'];

async function publicKey(client: ApiClient, pinned: string | undefined, io: CliIo): Promise<string> {
  if (pinned) return pinned;
  const k = await client.request<{ vkey: string }>('GET', '/v1/audit/public-key');
  io.stderr.write(`note: using the server's published key ${k.vkey}; pin it with --public-key for independent verification\n`);
  return k.vkey;
}

async function allCheckpointNotes(client: ApiClient): Promise<string[]> {
  const page = await fetchPages<{ note: string }>(client, '/v1/audit/checkpoints', new URLSearchParams({ limit: '500' }), true);
  return page.items.map((c) => c.note);
}

function readAgainst(files: string[] | undefined): string[] {
  return (files ?? []).map((f) => {
    try { return fs.readFileSync(f, 'utf8'); } catch { throw new CliError(`cannot read checkpoint file ${f}`, 2); }
  });
}

/** Where the verified events came from: the pruned prefix (its tree state) and what is stored. */
function counted(r: VerifyReport): string {
  const start = r.start ?? 0;
  if (start === 0) return `${r.size} events verified`;
  return `${r.size} events verified: ${start} pruned (0..${start - 1}, from the archived tree state kept at the prune point; verify those with custos audit verify-archive) and ${r.size - start} stored (${start}..${r.size - 1})`;
}

const NO_AGAINST = 'note: no external checkpoint given (--against): truncation of events together with checkpoints cannot be detected; save one elsewhere with custos audit checkpoint --output FILE or a --checkpoint-sink\n';

function report(io: CliIo, r: VerifyReport, json: boolean | undefined, against: string[]): void {
  if (json) {
    printJson(io, { ...r, rootHash: r.rootHash.toString('base64'), external_checkpoints: against.length });
  } else if (r.ok) {
    io.stdout.write(`OK: ${counted(r)}; ${r.checkpoints.valid} signed checkpoints consistent; root ${r.rootHash.toString('base64')}\n`);
    const acknowledged = r.problems.filter((p) => p.acknowledgedBy !== undefined);
    if (acknowledged.length > 0) {
      io.stdout.write(`  apart from ${acknowledged.length} problem(s) recorded by audited recoveries (${r.recoveries.map((x) => `seq ${x.seq}`).join(', ')}), kept as evidence:\n`);
      for (const p of acknowledged) io.stdout.write(`  ${p.kind}${p.seq !== null ? ` at seq ${p.seq}` : ''} (acknowledged by the recovery at seq ${p.acknowledgedBy}): ${p.message}\n`);
    }
  } else {
    io.stdout.write(`FAILED: first bad sequence number ${r.firstBadSeq ?? 'n/a'}\n`);
    for (const p of r.problems) io.stdout.write(`  ${p.kind}${p.seq !== null ? ` at seq ${p.seq}` : ''}${p.acknowledgedBy !== undefined ? ` (acknowledged by the recovery at seq ${p.acknowledgedBy})` : ''}: ${p.message}\n`);
  }
  if (against.length === 0 && !json) io.stderr.write(NO_AGAINST);
  if (!r.ok) throw new CliError(`audit log verification failed (first bad seq ${r.firstBadSeq ?? 'n/a'})`, 1);
}

/** Reads a secret from stdin (piped) or a prompt that does not echo (terminal), never from argv. */
async function readSecret(io: AuditIo): Promise<string> {
  const stdin = io.stdin ?? process.stdin;
  const tty = io.stdinIsTTY ?? Boolean((stdin as NodeJS.ReadStream).isTTY);
  if (tty && (stdin as NodeJS.ReadStream).setRawMode) {
    io.stderr.write('value to hash (not echoed): ');
    const raw = stdin as NodeJS.ReadStream;
    raw.setRawMode(true);
    raw.resume();
    raw.setEncoding('utf8');
    const value = await new Promise<string>((resolve, reject) => {
      let text = '';
      const onData = (chunk: string) => {
        for (const ch of chunk) {
          if (ch === '\r' || ch === '\n' || ch === '\u0004') {
            raw.off('data', onData);
            resolve(text);
            return;
          }
          if (ch === '\u0003') {
            raw.off('data', onData);
            reject(new CliError('cancelled', 2));
            return;
          }
          if (ch === '\u007f' || ch === '\b') text = text.slice(0, -1);
          else text += ch;
        }
      };
      raw.on('data', onData);
    }).finally(() => {
      raw.setRawMode(false);
      raw.pause();
      io.stderr.write('\n');
    });
    return value;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  // One trailing newline (echo, a file) is not part of the value.
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

/** CliIo plus the input stream (tests give one; the process's otherwise). */
export type AuditIo = CliIo & { stdin?: NodeJS.ReadableStream; stdinIsTTY?: boolean };

/** The store named on the command line or in the environment, when the caller asked for the store. */
function storeOptions(o: { dataDir?: string; databaseUrl?: string }, io: CliIo) {
  return { dataDir: path.resolve(o.dataDir ?? io.env.CUSTOS_DATA_DIR ?? './.custos'), databaseUrl: o.databaseUrl ?? io.env.CUSTOS_DATABASE_URL };
}

export function registerAuditCommands(program: Command, io: AuditIo): void {
  const audit = program.command('audit').description('query, export and verify the tamper-evident audit log');

  const filters = (cmd: Command) => cmd.option('--type <type>', 'event type (prefix with *, e.g. principal.*)').option('--principal <id>', 'acting principal id')
    .option('--credential <id>', 'credential id the actor used (e.g. an operator token id)').option('--target <id>', 'id of the object acted on')
    .addOption(new Option('--decision <d>', 'authorization decision').choices(['allow', 'deny']))
    .option('--since <iso>', 'events at or after this time (ISO 8601)').option('--until <iso>', 'events before this time (ISO 8601)')
    .option('--delegation-ancestor <id>', 'events whose delegation chain includes this principal');
  const params = (o: Record<string, any>) => defined({ type: o.type, principal: o.principal, credential: o.credential, target: o.target, decision: o.decision, since: o.since, until: o.until, delegation_ancestor: o.delegationAncestor }) as Record<string, string>;

  pageOptions(filters(audit.command('events').description('query events, newest first')))
    .addHelpText('after', examples('custos audit events --type "principal.*" --since 2026-12-01T00:00:00Z', 'custos audit events --decision deny --all --json'))
    .action(withClient(io, async (client, g, o) => {
      const page = await fetchPages<Event>(client, '/v1/audit/events', new URLSearchParams({ ...params(o), ...defined({ limit: o.limit, cursor: o.cursor }) as Record<string, string> }), Boolean(o.all));
      if (g.json) return printJson(io, page);
      printTable(io, HEAD, page.items.map(eventRow));
      if (page.next_cursor) io.stdout.write(`more: --cursor ${page.next_cursor}\n`);
    }));

  filters(audit.command('tail').description('the latest events; -f follows new ones live').option('-n, --lines <n>', 'how many', '20').option('-f, --follow', 'keep printing new events (SSE)'))
    .addHelpText('after', examples('custos audit tail -n 50', 'custos audit tail -f --type "auth.*"'))
    .action(withClient(io, async (client, g, o) => {
      const page = await client.request<{ items: Event[] }>('GET', `/v1/audit/events?${new URLSearchParams({ ...params(o), limit: String(o.lines), order: 'desc' })}`);
      const items = page.items.reverse();
      const print = (e: Event) => io.stdout.write(g.json ? JSON.stringify(e) + '\n' : eventRow(e).join('  ') + '\n');
      items.forEach(print);
      if (!o.follow) return;
      let last = items[items.length - 1]?.seq ?? -1;
      for (;;) {
        const next = await client.request<{ items: Event[] }>('GET', `/v1/audit/events?${new URLSearchParams({ ...params(o), order: 'asc', after_seq: String(last), limit: '500' })}`);
        next.items.forEach(print);
        if (next.items.length) last = next.items[next.items.length - 1]!.seq;
        else await new Promise((r) => setTimeout(r, 500));
      }
    }));

  audit.command('show <seq>').description('one event with its canonical form and leaf hash')
    .addHelpText('after', examples('custos audit show 42'))
    .action(withClient(io, async (client, _g, seq: string) => {
      printJson(io, await client.request('GET', `/v1/audit/events/${encodeURIComponent(seq)}`));
    }));

  audit.command('verify').description('recompute the tree and check every signed checkpoint; names the first bad sequence number')
    .option('--public-key <vkey>', 'pin the log key (C2SP vkey) instead of trusting the server')
    .option('--against <file>', 'a checkpoint saved earlier elsewhere; the log must still extend it (repeatable). Without one, truncating events and checkpoints together is undetectable', (v: string, p: string[] = []) => [...p, v])
    .option('--store', 'read the store directly instead of the server (with --data-dir / --database-url)')
    .option('--data-dir <dir>', 'verify this data dir\'s store directly (implies --store; default with --store: CUSTOS_DATA_DIR or ./.custos)')
    .option('--database-url <url>', 'verify this PostgreSQL store directly (implies --store)')
    .addHelpText('after', examples(
      'custos audit verify --public-key "$KEY" --against saved-checkpoint.txt',
      'custos audit verify --data-dir /var/lib/custos      # the store itself, server up or down',
    ))
    .action(async (o, cmd: Command) => {
      const g = cmd.optsWithGlobals();
      const against = readAgainst(o.against);
      const direct = o.store || o.dataDir !== undefined || o.databaseUrl !== undefined;
      if (direct) {
        const { verifyStore } = await import('../../audit/verify-store.js');
        const r = await verifyStore({ ...storeOptions(o, io), vkey: o.publicKey, against });
        return report(io, r, g.json, against);
      }
      try {
        await withClient(io, async (client) => {
          const vkey = await publicKey(client, o.publicKey, io);
          const checkpoints = await allCheckpointNotes(client);
          const { pruned_state } = await client.request<{ pruned_state: SerializedState | null }>('GET', '/v1/audit/retention');
          async function* events() {
            for await (const line of client.requestLines('/v1/audit/export?format=store')) {
              const e = JSON.parse(line) as { seq: number; leaf_hash: string; canonical: string; columns?: Record<string, unknown> };
              // The query columns the server stores beside each event are checked here too (delegation rows: --store or POST /v1/audit/verify).
              yield { seq: e.seq, canonical: e.canonical, storedLeafHash: e.leaf_hash, ...(e.columns ? { columns: e.columns as never } : {}) };
            }
          }
          const start = pruned_state ? { start: parseState(pruned_state) } : {};
          report(io, await verifyLog({ events: events(), checkpoints, vkey, against, seqField: 'seq', ...start }), g.json, against);
        })(cmd);
      } catch (error) {
        if (error instanceof CliError && error.exitCode === 3 && /cannot reach/.test(error.message)) {
          throw new CliError(`${error.message.replace(/; start it with: custos serve$/, '')}; to verify without the server, read the store directly: custos audit verify --data-dir DIR (or --store, or --database-url URL)`, 3);
        }
        throw error;
      }
    });

  audit.command('recover').description('after an integrity failure: record what was found (audit.recovered) and re-anchor the log so governed writes resume (admin)')
    .requiredOption('--reason <text>', 'why (incident id, what was restored); recorded in the recovery event')
    .option('--data-dir <dir>', 'recover on the host, directly on this data dir\'s store, as system:cli_local (needs the master key; server stopped)')
    .option('--database-url <url>', 'recover on the host, directly on this PostgreSQL store (needs the master key)')
    .addHelpText('after', [
      '',
      'The recovery event keeps the evidence: the failure found (kind, first bad seq), every problem a full',
      'verification found then, the tree state the log resumes from, the high-water mark and the largest signed',
      'size. Later verifications still list those problems, marked as acknowledged; anything else still fails.',
      examples('custos audit recover --reason "INC-42: restored from backup; events 812..830 lost"', 'custos audit recover --data-dir /var/lib/custos --reason "INC-42" # host-side, server stopped'),
    ].join('\n'))
    .action(async (o: { reason: string; dataDir?: string; databaseUrl?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals();
      let r: { found: { kind: string; first_bad_seq: number | null; message: string }; problems: number; event_seq: number; resumed_at: number; tombstones: [number, number] | null };
      if (o.dataDir !== undefined || o.databaseUrl !== undefined) {
        r = await recoverOnHost(storeOptions(o, io), o.reason, io);
      } else {
        r = await withClientResult(io, cmd, (client) => client.request('POST', '/v1/audit/recover', { reason: o.reason }));
      }
      if (g.json) return printJson(io, r);
      io.stdout.write(`recovered: ${r.found.kind}${r.found.first_bad_seq !== null ? ` at seq ${r.found.first_bad_seq}` : ''} (${r.found.message}); ${r.problems} problem(s) recorded in the audit.recovered event at seq ${r.event_seq}${r.tombstones ? `; seqs ${r.tombstones[0]}..${r.tombstones[1] - 1} stay unused` : ''}\n`);
    });

  audit.command('checkpoint').description('print (or save) the latest signed checkpoint, to verify against later')
    .option('--output <file>', 'write it to this file (0600) instead of stdout; keep it outside the data dir')
    .addHelpText('after', examples('custos audit checkpoint --output /mnt/elsewhere/custos-$(date +%F).checkpoint'))
    .action(withClient(io, async (client, _g, o) => {
      const page = await client.request<{ items: Array<{ note: string }> }>('GET', '/v1/audit/checkpoints?limit=1');
      const note = page.items[0]?.note;
      if (!note) throw new CliError('no checkpoint yet', 1);
      writeOutput(io, note, o.output);
    }));

  audit.command('verify-proof <seq>').description('fetch and check an inclusion proof against a signed checkpoint, with the public key alone')
    .option('--tree-size <n>', 'prove against the signed checkpoint of this size (default: the latest)').option('--public-key <vkey>', 'pin the log key (C2SP vkey) instead of trusting the server')
    .addHelpText('after', examples('custos audit verify-proof 42 --public-key "$(cat custos.vkey)"'))
    .action(withClient(io, async (client, g, seq: string, o) => {
      const vkey = await publicKey(client, o.publicKey, io);
      const q = o.treeSize ? `?tree_size=${encodeURIComponent(o.treeSize)}` : '';
      const proof = await client.request<{ leaf_index: number; tree_size: number; proof: string[]; checkpoint: string | null }>('GET', `/v1/audit/events/${encodeURIComponent(seq)}/proof${q}`);
      const ev = await client.request<{ canonical: string }>('GET', `/v1/audit/events/${encodeURIComponent(seq)}`);
      if (!proof.checkpoint) throw new CliError(`no signed checkpoint at tree size ${proof.tree_size}; omit --tree-size to use the latest`, 1);
      const verifier = parseVerifierKey(vkey);
      const cp = openCheckpoint(proof.checkpoint, verifier);
      if (cp.size !== proof.tree_size) throw new CliError('checkpoint size does not match the proof', 1);
      // The leaf hash is recomputed from the event itself: the server's word is not needed.
      const result = verifyInclusion(proof.leaf_index, cp.size, hashLeafText(ev.canonical), proof.proof.map((p) => Buffer.from(p, 'base64')), cp.rootHash);
      if (g.json) printJson(io, { ...result, leaf_index: proof.leaf_index, tree_size: cp.size });
      else io.stdout.write(result.ok ? `OK: event ${proof.leaf_index} is included in the signed tree of size ${cp.size}\n` : `FAILED: ${result.reason}\n`);
      if (!result.ok) throw new CliError('inclusion proof did not verify', 1);
    }));

  audit.command('verify-consistency <from> <to>').description('check that the signed tree of size TO extends the one of size FROM')
    .option('--public-key <vkey>', 'pin the log key (C2SP vkey) instead of trusting the server')
    .addHelpText('after', examples('custos audit verify-consistency 1000 2048 --public-key "$(cat custos.vkey)"'))
    .action(withClient(io, async (client, g, from: string, to: string, o) => {
      const verifier = parseVerifierKey(await publicKey(client, o.publicKey, io));
      const p = await client.request<{ proof: string[]; from_checkpoint: string | null; to_checkpoint: string | null }>('GET', `/v1/audit/consistency?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
      if (!p.from_checkpoint || !p.to_checkpoint) throw new CliError('both sizes must have signed checkpoints', 1);
      const a = openCheckpoint(p.from_checkpoint, verifier);
      const b = openCheckpoint(p.to_checkpoint, verifier);
      const result = verifyConsistency(a.size, b.size, p.proof.map((x) => Buffer.from(x, 'base64')), a.rootHash, b.rootHash);
      if (g.json) printJson(io, result);
      else io.stdout.write(result.ok ? `OK: tree ${b.size} extends tree ${a.size}\n` : `FAILED: ${result.reason}\n`);
      if (!result.ok) throw new CliError('consistency proof did not verify', 1);
    }));

  audit.command('export').description('export events as JSON Lines')
    .addOption(new Option('--format <format>', 'JSON Lines of Custos events, or OCSF API Activity records').choices(['jsonl', 'ocsf']).default('jsonl'))
    .option('--from-seq <n>', 'first sequence number (inclusive)').option('--to-seq <n>', 'last sequence number (exclusive)')
    .option('--output <file>', 'write to this file (0600) instead of stdout')
    .addHelpText('after', examples('custos audit export --from-seq 0 --to-seq 10000 --output audit.jsonl', 'custos audit export --format ocsf | your-siem-import'))
    .action(withClient(io, async (client, _g, o) => {
      const q = new URLSearchParams(defined({ format: o.format, from_seq: o.fromSeq, to_seq: o.toSeq }) as Record<string, string>);
      // Exports are nobody else's business: the file is created 0600.
      const out: NodeJS.WritableStream = o.output ? fs.createWriteStream(o.output, { mode: 0o600 }) : io.stdout;
      let lines = 0;
      for await (const line of client.requestLines(`/v1/audit/export?${q}`)) {
        lines++;
        if (!out.write(line + '\n')) await new Promise((r) => out.once('drain', r));
      }
      if (o.output) {
        await new Promise<void>((resolve, reject) => (out as fs.WriteStream).end((err?: Error | null) => (err ? reject(err) : resolve())));
        fs.chmodSync(o.output, 0o600);
        io.stderr.write(`wrote ${lines} ${o.format === 'ocsf' ? 'OCSF records' : 'events'} to ${o.output} (mode 0600)\n`);
      }
    }));

  audit.command('hash').description('keyed hash of a secret (e.g. a leaked token) to search events by it; the value is read from stdin or a prompt, never the command line')
    .option('--stdin', 'read the value from standard input (for scripts; one trailing newline is dropped)')
    .option('--data-dir <dir>', 'compute the hash here with the master key of this data dir (env CUSTOS_MASTER_KEY or DIR/master.key): nothing is sent')
    .addHelpText('after', examples(
      'printf %s "$LEAKED" | custos audit hash --stdin',
      'custos audit hash --data-dir /var/lib/custos      # prompts, computes locally',
    ))
    .action(async (o: { stdin?: boolean; dataDir?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals();
      const value = await readSecret(o.stdin ? { ...io, stdinIsTTY: false } : io);
      if (value.length === 0) throw new CliError('no value given (pipe it in with --stdin, or type it at the prompt)', 2);
      const dataDir = o.dataDir ?? io.env.CUSTOS_DATA_DIR;
      const local = dataDir !== undefined ? localHmac(path.resolve(dataDir), io.env.CUSTOS_MASTER_KEY, value) : undefined;
      if (o.dataDir !== undefined && local === undefined) throw new CliError(`no master key for ${o.dataDir} (CUSTOS_MASTER_KEY or ${path.join(o.dataDir, 'master.key')})`, 4);
      const r = local !== undefined ? { hmac: local, computed: 'locally' as const }
        : { ...(await withClientResult(io, cmd, (client) => client.request<{ hmac: string }>('POST', '/v1/audit/hash', { value }))), computed: 'by the server' as const };
      if (g.json) printJson(io, r); else io.stdout.write(r.hmac + '\n');
    });

  audit.command('public-key').description('the log\'s checkpoint signing key (C2SP vkey), to pin in verifiers')
    .addHelpText('after', examples('custos audit public-key > custos.vkey'))
    .action(withClient(io, async (client, g) => {
      const k = await client.request<{ vkey: string }>('GET', '/v1/audit/public-key');
      if (g.json) printJson(io, k); else io.stdout.write(k.vkey + '\n');
    }));

  audit.command('archive').description('write the events before --to-seq to a self-verifying archive file; --prune then deletes them from the store')
    .requiredOption('--to-seq <n>', 'end of the archived range (exclusive; a multiple of 256)')
    .requiredOption('--output <file>', 'the archive file to create (0600; refuses to overwrite)')
    .option('--prune', 'after the archive is written and verified, delete the archived events from the store')
    .option('--public-key <vkey>', 'pin the log key (C2SP vkey) instead of trusting the server')
    .addHelpText('after', examples('custos audit archive --to-seq 65536 --output audit-0-65536.archive.json', 'custos audit archive --to-seq 65536 --output a.json --prune --public-key "$(cat custos.vkey)"'))
    .action(withClient(io, async (client, g, o) => {
      const archive = await client.request<AuditArchive>('GET', `/v1/audit/archive?to_seq=${encodeURIComponent(o.toSeq)}`);
      const vkey = await publicKey(client, o.publicKey, io);
      const check = verifyArchive(archive, vkey);
      if (!check.ok) throw new CliError(`the server's archive does not verify: ${check.reason}; nothing was pruned`, 1);
      fs.writeFileSync(o.output, JSON.stringify(archive) + '\n', { flag: 'wx', mode: 0o600 });
      let pruned: unknown = null;
      if (o.prune) pruned = await client.request('POST', '/v1/audit/prune', { to_seq: archive.to_seq, archive_digest: archiveDigest(archive) });
      if (g.json) printJson(io, { file: o.output, from_seq: archive.from_seq, to_seq: archive.to_seq, events: check.events, pruned });
      else io.stdout.write(`archived events ${archive.from_seq}..${archive.to_seq - 1} (${check.events}) to ${o.output}${pruned ? '; pruned them from the store' : ''}\n`);
    }));

  audit.command('verify-archive <file>').description('verify a retention archive with the public key alone')
    .option('--public-key <vkey>', 'the log key (default: the key named in the archive; pin it for independence)')
    .addHelpText('after', examples('custos audit verify-archive audit-0-65536.archive.json --public-key "$(cat custos.vkey)"'))
    .action(async (file: string, o) => {
      let archive: AuditArchive;
      try { archive = JSON.parse(fs.readFileSync(file, 'utf8')) as AuditArchive; } catch { throw new CliError(`cannot read archive ${file}`, 2); }
      const result = verifyArchive(archive, o.publicKey ?? archive.vkey);
      if (!result.ok) throw new CliError(`archive does not verify: ${result.reason}`, 1);
      io.stdout.write(`OK: ${result.events} archived events ${archive.from_seq}..${archive.to_seq - 1} hash to the signed checkpoint of size ${archive.to_seq}\n`);
    });
}

/** withClient for actions that return a value. */
async function withClientResult<T>(io: CliIo, cmd: Command, fn: (client: ApiClient) => Promise<T>): Promise<T> {
  let out: T | undefined;
  await withClient(io, async (client) => { out = await fn(client); })(cmd);
  return out as T;
}

/** The audit HMAC computed with the host's master key (the same key derivation as the server's writer), or undefined without a key. */
function localHmac(dataDir: string, envKey: string | undefined, value: string): string | undefined {
  const master = loadMasterKey(dataDir, envKey === '' ? undefined : envKey);
  if (!master) return undefined;
  return crypto.createHmac('sha256', createKeyRing(master).deriveKey('audit-hmac')).update(value, 'utf8').digest('hex');
}

/** The recovery run on the host against the store (server stopped), as system:cli_local. */
async function recoverOnHost(store: { dataDir: string; databaseUrl: string | undefined }, reason: string, io: CliIo) {
  const { loadConfig } = await import('../../platform/config.js');
  const { createControlPlane } = await import('../../app.js');
  const { createLogger } = await import('../../platform/logger.js');
  const { loadOrCreateLogKey } = await import('../../audit/log-key.js');
  const { recoverLog } = await import('../../audit/recovery.js');
  const { systemActor } = await import('../../platform/actor.js');
  const config = loadConfig({ dataDir: store.dataDir, databaseUrl: store.databaseUrl, logLevel: 'warn' }, io.env);
  const cp = await createControlPlane(config, { logger: createLogger('warn'), requireInitialised: true });
  try {
    const master = loadMasterKey(config.dataDir, config.masterKey);
    if (!master) throw new CliError('no master key (CUSTOS_MASTER_KEY or the data dir\'s master.key)', 4);
    const key = await loadOrCreateLogKey(cp.db, createKeyRing(master));
    return await recoverLog({ db: cp.db, key, audit: cp.audit }, systemActor('cli_local'), reason);
  } finally {
    await cp.close();
  }
}
