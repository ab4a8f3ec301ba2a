import fs from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import { openCheckpoint, parseVerifierKey } from '../../audit/checkpoint.js';
import { hashLeafText, verifyConsistency, verifyInclusion } from '../../audit/merkle.js';
import { archiveDigest, verifyArchive, type AuditArchive } from '../../audit/retention.js';
import { parseState, type SerializedState } from '../../audit/tree-state.js';
import { verifyLog, type VerifyReport } from '../../audit/verify-log.js';
import type { ApiClient } from '../client.js';
import { CliError } from '../client.js';
import { defined, fetchPages, pageOptions, withClient, writeOutput } from '../common.js';
import { printJson, printTable, type CliIo } from '../output.js';

type Event = Record<string, any>;

const eventRow = (e: Event) => [e.seq, e.time, e.type, e.actor?.principal_name ?? e.actor?.principal_id ?? '', e.target ? `${e.target.type}:${e.target.name ?? e.target.id}` : '', e.decision ?? e.outcome];
const HEAD = ['SEQ', 'TIME', 'TYPE', 'ACTOR', 'TARGET', 'OUTCOME'];

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

function report(io: CliIo, r: VerifyReport, json: boolean | undefined): void {
  if (json) {
    printJson(io, { ...r, rootHash: r.rootHash.toString('base64') });
  } else if (r.ok) {
    io.stdout.write(`OK: ${r.size} events verified; ${r.checkpoints.valid} signed checkpoints consistent; root ${r.rootHash.toString('base64')}\n`);
  } else {
    io.stdout.write(`FAILED: first bad sequence number ${r.firstBadSeq ?? 'n/a'}\n`);
    for (const p of r.problems) io.stdout.write(`  ${p.kind}${p.seq !== null ? ` at seq ${p.seq}` : ''}: ${p.message}\n`);
  }
  if (!r.ok) throw new CliError(`audit log verification failed (first bad seq ${r.firstBadSeq ?? 'n/a'})`, 1);
}

export function registerAuditCommands(program: Command, io: CliIo): void {
  const audit = program.command('audit').description('query, export and verify the tamper-evident audit log');

  const filters = (cmd: Command) => cmd.option('--type <type>', 'event type (prefix with *, e.g. principal.*)').option('--principal <id>', 'acting principal id')
    .option('--credential <id>').option('--target <id>').addOption(new Option('--decision <d>').choices(['allow', 'deny']))
    .option('--since <iso>').option('--until <iso>').option('--delegation-ancestor <id>');
  const params = (o: Record<string, any>) => defined({ type: o.type, principal: o.principal, credential: o.credential, target: o.target, decision: o.decision, since: o.since, until: o.until, delegation_ancestor: o.delegationAncestor }) as Record<string, string>;

  pageOptions(filters(audit.command('events').description('query events, newest first')))
    .action(withClient(io, async (client, g, o) => {
      const page = await fetchPages<Event>(client, '/v1/audit/events', new URLSearchParams({ ...params(o), ...defined({ limit: o.limit, cursor: o.cursor }) as Record<string, string> }), Boolean(o.all));
      if (g.json) return printJson(io, page);
      printTable(io, HEAD, page.items.map(eventRow));
      if (page.next_cursor) io.stdout.write(`more: --cursor ${page.next_cursor}\n`);
    }));

  filters(audit.command('tail').description('the latest events; -f follows new ones live').option('-n, --lines <n>', 'how many', '20').option('-f, --follow', 'keep printing new events (SSE)'))
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
    .action(withClient(io, async (client, _g, seq: string) => {
      printJson(io, await client.request('GET', `/v1/audit/events/${encodeURIComponent(seq)}`));
    }));

  audit.command('verify').description('recompute the tree and check every signed checkpoint; names the first bad sequence number')
    .option('--public-key <vkey>', 'pin the log key (C2SP vkey) instead of trusting the server')
    .option('--against <file>', 'a checkpoint saved earlier elsewhere; the log must still extend it (repeatable)', (v: string, p: string[] = []) => [...p, v])
    .option('--store', 'read the store directly instead of the server (with --data-dir / --database-url)')
    .option('--data-dir <dir>', 'with --store: the data dir (default CUSTOS_DATA_DIR or ./.custos)')
    .option('--database-url <url>', 'with --store: a PostgreSQL store')
    .action(async (o, cmd: Command) => {
      const g = cmd.optsWithGlobals();
      const against = readAgainst(o.against);
      if (o.store) {
        const dataDir = path.resolve(o.dataDir ?? io.env.CUSTOS_DATA_DIR ?? './.custos');
        const { verifyStore } = await import('../../audit/verify-store.js');
        const r = await verifyStore({ dataDir, databaseUrl: o.databaseUrl ?? io.env.CUSTOS_DATABASE_URL, vkey: o.publicKey, against });
        return report(io, r, g.json);
      }
      await withClient(io, async (client) => {
        const vkey = await publicKey(client, o.publicKey, io);
        const checkpoints = await allCheckpointNotes(client);
        const { pruned_state } = await client.request<{ pruned_state: SerializedState | null }>('GET', '/v1/audit/retention');
        async function* events() {
          for await (const line of client.requestLines('/v1/audit/export?format=store')) {
            const e = JSON.parse(line) as { seq: number; leaf_hash: string; canonical: string };
            yield { seq: e.seq, canonical: e.canonical, storedLeafHash: e.leaf_hash };
          }
        }
        const start = pruned_state ? { start: parseState(pruned_state) } : {};
        report(io, await verifyLog({ events: events(), checkpoints, vkey, against, seqField: 'seq', ...start }), g.json);
      })(cmd);
    });

  audit.command('checkpoint').description('print (or save) the latest signed checkpoint, to verify against later')
    .option('--output <file>')
    .action(withClient(io, async (client, _g, o) => {
      const page = await client.request<{ items: Array<{ note: string }> }>('GET', '/v1/audit/checkpoints?limit=1');
      const note = page.items[0]?.note;
      if (!note) throw new CliError('no checkpoint yet', 1);
      writeOutput(io, note, o.output);
    }));

  audit.command('verify-proof <seq>').description('fetch and check an inclusion proof against a signed checkpoint, with the public key alone')
    .option('--tree-size <n>').option('--public-key <vkey>')
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
    .option('--public-key <vkey>')
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
    .addOption(new Option('--format <format>').choices(['jsonl', 'ocsf']).default('jsonl'))
    .option('--from-seq <n>').option('--to-seq <n>').option('--output <file>')
    .action(withClient(io, async (client, _g, o) => {
      const q = new URLSearchParams(defined({ format: o.format, from_seq: o.fromSeq, to_seq: o.toSeq }) as Record<string, string>);
      const out: NodeJS.WritableStream = o.output ? fs.createWriteStream(o.output) : io.stdout;
      for await (const line of client.requestLines(`/v1/audit/export?${q}`)) {
        if (!out.write(line + '\n')) await new Promise((r) => out.once('drain', r));
      }
      if (o.output) await new Promise<void>((resolve, reject) => (out as fs.WriteStream).end((err?: Error | null) => (err ? reject(err) : resolve())));
    }));

  audit.command('hash <value>').description('keyed hash of a value (e.g. a leaked token) to search events by it')
    .action(withClient(io, async (client, g, value: string) => {
      const r = await client.request<{ hmac: string }>('POST', '/v1/audit/hash', { value });
      if (g.json) printJson(io, r); else io.stdout.write(r.hmac + '\n');
    }));

  audit.command('public-key').description('the log\'s checkpoint signing key (C2SP vkey), to pin in verifiers')
    .action(withClient(io, async (client, g) => {
      const k = await client.request<{ vkey: string }>('GET', '/v1/audit/public-key');
      if (g.json) printJson(io, k); else io.stdout.write(k.vkey + '\n');
    }));

  audit.command('archive').description('write the events before --to-seq to a self-verifying archive file; --prune then deletes them from the store')
    .requiredOption('--to-seq <n>', 'end of the archived range (exclusive; a multiple of 256)')
    .requiredOption('--output <file>')
    .option('--prune', 'after the archive is written and verified, delete the archived events from the store')
    .option('--public-key <vkey>')
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
    .action(async (file: string, o) => {
      let archive: AuditArchive;
      try { archive = JSON.parse(fs.readFileSync(file, 'utf8')) as AuditArchive; } catch { throw new CliError(`cannot read archive ${file}`, 2); }
      const result = verifyArchive(archive, o.publicKey ?? archive.vkey);
      if (!result.ok) throw new CliError(`archive does not verify: ${result.reason}`, 1);
      io.stdout.write(`OK: ${result.events} archived events ${archive.from_seq}..${archive.to_seq - 1} hash to the signed checkpoint of size ${archive.to_seq}\n`);
    });
}
