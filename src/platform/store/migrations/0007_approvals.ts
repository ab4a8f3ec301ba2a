import type { Kysely, Migration } from 'kysely';
import type { Dialect } from '../db.js';
import { idColumn } from './columns.js';

type Db = Kysely<any>;

// The approvals module's tables (approvals/):
// - access_requests: access, registration and break-glass requests. `request_hash` is the SHA-256 of what an
//   approver approves (subject, resources, actions, purpose, duration, justification, ticket); an edit changes it,
//   so approvals given for the earlier text no longer count. Break-glass rows carry their post-incident review.
// - approvals: one decision (approve or deny) by one person on one revision of a request; the unique index makes a
//   person count once per revision however many tokens or roles they hold.
// - approval_settings: the approval rules, conflicting-role pairs and team names as one JSON document (data, not
//   code); no row means the built-in defaults.
// - review_campaigns / review_items: recertification of non-human principals, one item per principal.
// - webhooks / webhook_deliveries: subscriptions (secret sealed with the master key) and the outbox: a delivery row
//   is written in the same transaction as the change it reports, then delivered with retries until delivered or dead.

export function migration(dialect: Dialect): Migration {
  const key = idColumn(dialect);
  return {
    async up(db: Db) {
      await db.schema.createTable('access_requests')
        .addColumn('id', key, (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull()) // access | registration | break_glass
        .addColumn('status', 'text', (c) => c.notNull()) // pending | approved | denied | cancelled | expired
        .addColumn('requester_id', key, (c) => c.notNull().references('principals.id'))
        .addColumn('accountable_id', key, (c) => c.references('principals.id')) // the human answerable for it
        .addColumn('requester_chain', 'text', (c) => c.notNull()) // JSON principal ids nobody of which may approve
        .addColumn('subject_id', key, (c) => c.notNull().references('principals.id'))
        .addColumn('resources', 'text', (c) => c.notNull()) // JSON [{ id, name, kind, risk_tier, classification }]
        .addColumn('actions', 'text', (c) => c.notNull()) // JSON action names
        .addColumn('purpose', 'text')
        .addColumn('justification', 'text', (c) => c.notNull())
        .addColumn('duration_seconds', 'integer', (c) => c.notNull())
        .addColumn('ticket', 'text')
        .addColumn('tier', 'text', (c) => c.notNull()) // the riskiest tier among the resources (or the subject's)
        .addColumn('requirement', 'text', (c) => c.notNull()) // JSON: the rule applied, frozen at creation or edit
        .addColumn('request_hash', 'text', (c) => c.notNull())
        .addColumn('revision', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('pending_until', 'text') // a pending request expires then
        .addColumn('decided_at', 'text')
        .addColumn('decided_by', 'text')
        .addColumn('decision_reason', 'text')
        .addColumn('grant_ids', 'text', (c) => c.notNull()) // JSON ids of the grants it produced
        .addColumn('review_status', 'text') // break-glass: open | closed
        .addColumn('review_finding', 'text')
        .addColumn('review_closed_by', 'text')
        .addColumn('review_closed_at', 'text')
        .execute();
      await db.schema.createIndex('access_requests_status_idx').on('access_requests').columns(['status', 'pending_until']).execute();
      await db.schema.createIndex('access_requests_subject_idx').on('access_requests').columns(['subject_id', 'id']).execute();
      await db.schema.createIndex('access_requests_requester_idx').on('access_requests').columns(['requester_id', 'id']).execute();

      await db.schema.createTable('approvals')
        .addColumn('id', key, (c) => c.primaryKey())
        .addColumn('request_id', key, (c) => c.notNull().references('access_requests.id'))
        .addColumn('approver_id', key, (c) => c.notNull().references('principals.id'))
        .addColumn('decision', 'text', (c) => c.notNull()) // approve | deny
        .addColumn('request_hash', 'text', (c) => c.notNull())
        .addColumn('revision', 'integer', (c) => c.notNull())
        .addColumn('comment', 'text')
        .addColumn('credential_id', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('approvals_one_per_person').on('approvals').columns(['request_id', 'approver_id', 'request_hash']).unique().execute();

      await db.schema.createTable('approval_settings')
        .addColumn('id', key, (c) => c.primaryKey()) // always 'current'
        .addColumn('document', 'text', (c) => c.notNull())
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('updated_by', 'text')
        .execute();

      await db.schema.createTable('review_campaigns')
        .addColumn('id', key, (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull()) // open | closed
        .addColumn('settings', 'text', (c) => c.notNull()) // JSON: tiers covered, grace, which tiers suspend
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addColumn('due_at', 'text', (c) => c.notNull())
        .addColumn('grace_until', 'text', (c) => c.notNull())
        .addColumn('closed_at', 'text')
        .execute();

      await db.schema.createTable('review_items')
        .addColumn('id', key, (c) => c.primaryKey())
        .addColumn('campaign_id', key, (c) => c.notNull().references('review_campaigns.id'))
        .addColumn('principal_id', key, (c) => c.notNull().references('principals.id'))
        .addColumn('reviewer_id', key, (c) => c.references('principals.id')) // the owner, or
        .addColumn('reviewer_team_id', key, (c) => c.references('teams.id')) // the owning team (security for orphans)
        .addColumn('orphaned', 'integer', (c) => c.notNull())
        .addColumn('snapshot', 'text', (c) => c.notNull()) // JSON: scopes, purposes, standing grants at the start
        .addColumn('status', 'text', (c) => c.notNull()) // pending | kept | reduced | revoked | lapsed
        .addColumn('decided_by', 'text')
        .addColumn('decided_at', 'text')
        .addColumn('decision_reason', 'text')
        .addColumn('applied', 'text') // JSON: what the decision changed
        .addColumn('notified', 'text') // JSON: which notices (due, overdue) were sent
        .execute();
      await db.schema.createIndex('review_items_campaign_idx').on('review_items').columns(['campaign_id', 'id']).execute();
      await db.schema.createIndex('review_items_principal_idx').on('review_items').columns(['principal_id']).execute();

      await db.schema.createTable('webhooks')
        .addColumn('id', key, (c) => c.primaryKey())
        .addColumn('name', key, (c) => c.notNull().unique())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('secret_sealed', 'text', (c) => c.notNull())
        .addColumn('events', 'text', (c) => c.notNull()) // JSON event types ([] = all)
        .addColumn('format', 'text', (c) => c.notNull()) // json | slack
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text')
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();

      await db.schema.createTable('webhook_deliveries')
        .addColumn('id', key, (c) => c.primaryKey())
        .addColumn('webhook_id', key, (c) => c.notNull().references('webhooks.id'))
        .addColumn('event_id', key, (c) => c.notNull())
        .addColumn('event_type', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull()) // the exact body sent (signed as is)
        .addColumn('status', 'text', (c) => c.notNull()) // pending | delivered | dead
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', 'text')
        .addColumn('last_status', 'integer')
        .addColumn('last_error', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('delivered_at', 'text')
        .execute();
      await db.schema.createIndex('webhook_deliveries_due_idx').on('webhook_deliveries').columns(['status', 'next_attempt_at']).execute();
      await db.schema.createIndex('webhook_deliveries_hook_idx').on('webhook_deliveries').columns(['webhook_id', 'id']).execute();
    },
  };
}
