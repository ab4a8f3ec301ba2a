import { z } from 'zod';
import type { HttpApp } from '../platform/http/app.js';
import { paginationQuery } from '../platform/http/pagination.js';
import type { AuditService } from './audit.service.js';
import type { Retention } from './retention.js';

const tags = ['audit'];
const seqSchema = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const eventSchema = z.record(z.string(), z.unknown());
const pageOfEvents = z.object({ items: z.array(eventSchema), next_cursor: z.string().nullable() });

export const listEventsQuery = z.strictObject({
  ...paginationQuery,
  type: z.string().max(200).optional().describe('Event type; a trailing * matches a prefix (e.g. principal.*)'),
  principal: z.string().max(200).optional().describe('Acting principal id'),
  credential: z.string().max(200).optional(),
  target: z.string().max(200).optional().describe('Target id (principal, resource, token, ...)'),
  decision: z.enum(['allow', 'deny']).optional(),
  outcome: z.enum(['success', 'failure']).optional(),
  since: z.iso.datetime().optional(),
  until: z.iso.datetime().optional(),
  delegation_ancestor: z.string().max(200).optional().describe('Principal id anywhere in the actor\'s delegation chain'),
  after_seq: seqSchema.optional(),
  order: z.enum(['asc', 'desc']).default('desc'),
});

const POLL_MS = 250;

export function registerAuditRoutes(app: HttpApp, audit: AuditService, retention: Retention): void {
  app.get('/v1/audit/public-key', {
    config: { public: true },
    schema: { tags, summary: 'The log\'s checkpoint signing key (C2SP vkey)', security: [], response: { 200: z.object({ origin: z.string(), vkey: z.string(), algorithm: z.string(), public_key: z.string() }) } },
  }, async () => audit.publicKey());

  app.get('/v1/audit/events', {
    config: { permission: 'audit.read' },
    schema: { tags, summary: 'Query audit events', querystring: listEventsQuery, response: { 200: pageOfEvents } },
  }, async (req) => audit.list(req.query));

  app.get('/v1/audit/events/:seq', {
    config: { permission: 'audit.read', errors: ['not_found', 'event_archived'] },
    schema: { tags, summary: 'One event with its canonical bytes and leaf hash', params: z.strictObject({ seq: seqSchema }), response: { 200: z.object({ event: eventSchema, canonical: z.string(), leaf_hash: z.string() }) } },
  }, async (req) => audit.get(req.params.seq));

  app.get('/v1/audit/events/:seq/proof', {
    config: { permission: 'audit.read', errors: ['seq_out_of_range', 'tree_size_too_large', 'no_checkpoint', 'event_archived'] },
    schema: {
      tags, summary: 'RFC 9162 inclusion proof of an event in the tree of tree_size (default: latest checkpoint)',
      params: z.strictObject({ seq: seqSchema }),
      querystring: z.strictObject({ tree_size: seqSchema.optional() }),
      response: { 200: z.object({ leaf_index: z.number(), tree_size: z.number(), leaf_hash: z.string(), proof: z.array(z.string()), root_hash: z.string(), checkpoint: z.string().nullable() }) },
    },
  }, async (req) => audit.inclusionProof(req.params.seq, req.query.tree_size));

  app.get('/v1/audit/consistency', {
    config: { permission: 'audit.read', errors: ['bad_tree_sizes', 'tree_size_too_large', 'no_checkpoint', 'event_archived'] },
    schema: {
      tags, summary: 'RFC 9162 consistency proof between two tree sizes',
      querystring: z.strictObject({ from: seqSchema, to: seqSchema }),
      response: { 200: z.object({ from: z.number(), to: z.number(), proof: z.array(z.string()), from_root: z.string(), to_root: z.string(), from_checkpoint: z.string().nullable(), to_checkpoint: z.string().nullable() }) },
    },
  }, async (req) => audit.consistencyProof(req.query.from, req.query.to));

  app.get('/v1/audit/checkpoints', {
    config: { permission: 'audit.read' },
    schema: {
      tags, summary: 'Signed checkpoints, newest first (C2SP signed-note text in `note`)',
      querystring: z.strictObject(paginationQuery),
      response: { 200: z.object({ items: z.array(z.object({ tree_size: z.number(), root_hash: z.string(), time: z.string(), note: z.string() })), next_cursor: z.string().nullable() }) },
    },
  }, async (req) => audit.checkpoints(req.query.limit, req.query.cursor));

  app.get('/v1/audit/export', {
    config: { permission: 'audit.read' },
    schema: {
      tags, summary: 'Export as JSON Lines: jsonl (canonical events), ocsf (OCSF-style), store (seq, leaf hash, canonical text and the stored query columns, for verification)',
      querystring: z.strictObject({ format: z.enum(['jsonl', 'ocsf', 'store']).default('jsonl'), from_seq: seqSchema.default(0), to_seq: seqSchema.optional() }),
    },
  }, async (req, reply) => {
    const { format, from_seq, to_seq } = req.query;
    const recorded = await audit.recordExport(req.actor, format, from_seq, to_seq);
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'x-request-id': String(req.id), 'x-audit-recorded': String(recorded) });
    for await (const chunk of audit.iterate(from_seq, to_seq)) {
      const lines = chunk.map((e) => format === 'jsonl' ? e.canonical
        : format === 'ocsf' ? JSON.stringify(audit.toOcsf(JSON.parse(e.canonical)))
          : JSON.stringify({ seq: e.seq, leaf_hash: e.leaf_hash, canonical: e.canonical, columns: e.columns }));
      if (!reply.raw.write(lines.join('\n') + '\n')) await new Promise((r) => reply.raw.once('drain', r));
    }
    reply.raw.end();
  });

  app.get('/v1/audit/stream', {
    config: { permission: 'audit.read' },
    schema: { tags, summary: 'Live events over Server-Sent Events (each `data:` is a canonical event)', querystring: z.strictObject({ after_seq: z.coerce.number().int().min(-1).optional() }) },
  }, async (req, reply) => {
    let last = req.query.after_seq ?? (await audit.list({ order: 'desc', limit: 1 })).items[0]?.seq as number | undefined ?? -1;
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    reply.raw.write(': custos audit stream\n\n');
    let open = true;
    req.raw.on('close', () => { open = false; });
    while (open) {
      const page = await audit.list({ order: 'asc', limit: 500, after_seq: last });
      for (const e of page.items) {
        reply.raw.write(`id: ${e.seq}\nevent: audit\ndata: ${JSON.stringify(e)}\n\n`);
        last = e.seq as number;
      }
      if (page.items.length < 500) await new Promise((r) => setTimeout(r, POLL_MS));
    }
    reply.raw.end();
  });

  app.post('/v1/audit/verify', {
    config: { permission: 'audit.verify' },
    schema: {
      tags, summary: 'Recompute the tree from the store, check every checkpoint, and name the first bad sequence number',
      body: z.strictObject({ against: z.array(z.string().max(8192)).max(100).optional() }).optional(),
    },
  }, async (req) => {
    const report = await audit.verify(req.actor, req.body?.against ?? []);
    return { ...report, rootHash: report.rootHash.toString('base64') };
  });

  app.post('/v1/audit/recover', {
    config: { permission: 'audit.admin', errors: ['recovery_not_needed'] },
    schema: {
      tags, summary: 'Audited recovery from an integrity failure: records what was found (first bad seq, kind, every problem) in an audit.recovered event and re-anchors the log with a new signed checkpoint',
      body: z.strictObject({ reason: z.string().min(1).max(2000).describe('Why the operator recovers (incident id, what was restored)') }),
      response: {
        200: z.object({
          found: z.object({ kind: z.string(), first_bad_seq: z.number().nullable(), message: z.string() }).passthrough(),
          problems: z.number(), event_seq: z.number(), resumed_at: z.number(), tombstones: z.tuple([z.number(), z.number()]).nullable(), checkpoint: z.string(),
        }),
      },
    },
  }, async (req) => audit.recover(req.actor, req.body.reason));

  app.get('/v1/audit/integrity', {
    config: { permission: 'audit.read' },
    schema: {
      tags, summary: 'The recorded integrity failure (null when none): while present, governed writes are refused until custos audit recover',
      response: { 200: z.object({ failure: z.object({ kind: z.string(), first_bad_seq: z.number().nullable(), message: z.string(), detected_at: z.string(), detected_by: z.string() }).nullable() }) },
    },
  }, async () => audit.integrity());

  app.post('/v1/audit/hash', {
    config: { permission: 'audit.read' },
    schema: { tags, summary: 'Keyed hash of a value, to search events by a secret without storing it', body: z.strictObject({ value: z.string().min(1).max(8192) }), response: { 200: z.object({ hmac: z.string() }) } },
  }, async (req) => ({ hmac: audit.hmac(req.body.value) }));

  app.get('/v1/audit/retention', {
    config: { permission: 'audit.read' },
    schema: { tags, summary: 'Where the stored log begins: the tree state at the last prune point (null if nothing was pruned)', response: { 200: z.object({ pruned_state: z.object({ size: z.number(), frontier: z.array(z.string()) }).nullable() }) } },
  }, async () => audit.retentionState());

  app.get('/v1/audit/archive', {
    config: { permission: 'audit.admin', errors: ['archive_empty', 'archive_unaligned', 'archive_too_recent', 'no_checkpoint'] },
    schema: {
      tags, summary: 'Build a self-verifying archive of the stored events before to_seq (a multiple of 256), for retention',
      querystring: z.strictObject({ to_seq: seqSchema }),
    },
  }, async (req) => retention.buildArchive(req.query.to_seq));

  app.post('/v1/audit/prune', {
    config: { permission: 'audit.admin', errors: ['archive_unaligned', 'archive_mismatch', 'archive_digest_mismatch', 'archive_too_recent'] },
    schema: {
      tags, summary: 'Delete the archived prefix; archive_digest proves the caller holds the archive of exactly that range',
      body: z.strictObject({ to_seq: seqSchema, archive_digest: z.string().regex(/^[0-9a-f]{64}$/) }),
      response: { 200: z.object({ pruned_from: z.number(), pruned_to: z.number() }) },
    },
  }, async (req) => retention.prune(req.actor, req.body.to_seq, req.body.archive_digest));
}
