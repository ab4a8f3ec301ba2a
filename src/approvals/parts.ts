// What each part of the approvals module (requests/, break-glass/, reviews/, webhooks/) is built from. The module
// (module.ts) builds the webhooks part first — it is the notifier every other part reports through — and hands
// every part the same context.
import type { AuditWriter } from '../audit/index.js';
import type { Actor } from '../platform/actor.js';
import type { Clock } from '../platform/clock.js';
import type { HttpApp } from '../platform/http/app.js';
import type { IdGenerator } from '../platform/ids.js';
import type { KeyRing } from '../platform/keys.js';
import type { Database, Trx } from '../platform/store/db.js';
import type { Notifier } from './notifications.js';
import type { ApprovalDirectory, GrantsSeam } from './ports.js';
import type { ApprovalSettings } from './settings.js';

export interface ApprovalsPartContext {
  db: Database;
  audit: AuditWriter;
  clock: Clock;
  newId: IdGenerator;
  /** The master key ring: webhook secrets are sealed with it. */
  keys: KeyRing;
  directory: ApprovalDirectory;
  grants: GrantsSeam;
  notify: Notifier['notify'];
  /** The approval settings in force (stored document or defaults), read inside the caller's transaction. */
  settings(trx: Trx | Database['kysely']): Promise<ApprovalSettings>;
  /**
   * The actor the workflow acts as when a decision takes effect (a grant made on approval, a principal activated or
   * suspended): the server itself, labelled with what caused it (`approvals:request/<id>`), so the audit log names
   * the cause and no person's own grant rules (nobody grants to what they own) stand in for the approval rules.
   */
  workflowActor(cause: string): Actor;
}

export interface ApprovalsPart {
  registerRoutes(app: HttpApp): void;
  /** Time-driven work (expiry, due and overdue reviews, deliveries): run by the module's timer and by tests. */
  sweep?(): Promise<void>;
  start?(): void;
  stop?(): Promise<void> | void;
}
