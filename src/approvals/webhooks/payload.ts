import type { PersonRef } from '../notifications.js';

// The exact bytes a webhook receives, built once when the event is queued and stored with the delivery (the
// signature covers them as stored, at every attempt). Pure.
//
// - json: `{ id, type, time, data, recipients? }` — `id` the event's id (the same at every webhook it went to, so a
//   receiver can drop a repeat), `type` one of NOTIFICATION_TYPES or `webhook.test`, `time` ISO 8601 UTC, `data` the
//   event's facts as the part that raised it wrote them, `recipients` the people it concerns (id and name).
// - slack: a Slack incoming-webhook message (`text` as the notification fallback, Block Kit `blocks`): a header
//   naming the event, up to ten fields summarising `data` (scalars, names of referenced objects, short lists), and a
//   context line with the recipients, the type, time and event id. Text from users (names, justifications) is
//   escaped the way Slack asks (&, <, >), so it cannot become a link or an @channel mention, and bounded to Slack's
//   limits.
// Neither format ever carries a secret: the parts put none in `data`, and the webhook's own secret is never near it.

export const TEST_EVENT_TYPE = 'webhook.test';

export interface WebhookEvent {
  id: string;
  type: string;
  time: string;
  data: Record<string, unknown>;
  recipients?: PersonRef[];
}

export type WebhookFormat = 'json' | 'slack';

export function jsonBody(event: WebhookEvent): string {
  const { id, type, time, data, recipients } = event;
  return JSON.stringify(recipients && recipients.length > 0 ? { id, type, time, data, recipients } : { id, type, time, data });
}

const TITLES: Record<string, string> = {
  'request.created': 'Access request created',
  'request.approved': 'Access request approved',
  'request.denied': 'Access request denied',
  'request.cancelled': 'Access request cancelled',
  'request.expired': 'Access request expired',
  'grant.revoked': 'Grant revoked',
  'break_glass.used': 'Break-glass access used',
  'review.due': 'Access review due',
  'review.overdue': 'Access review overdue',
  [TEST_EVENT_TYPE]: 'Test delivery from Custos',
};

const MAX_FIELDS = 10;
const MAX_VALUE = 300;
const MAX_LIST = 10;

/** Slack's escaping for text it would otherwise parse as links, mentions or entities. */
export function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function scalar(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const name = (value as { name?: unknown }).name;
    if (typeof name === 'string') return name;
  }
  return undefined;
}

function shown(value: unknown): string | undefined {
  if (Array.isArray(value)) {
    const items = value.map(scalar).filter((v): v is string => v !== undefined);
    if (items.length === 0) return undefined;
    const more = items.length > MAX_LIST ? ` (+${items.length - MAX_LIST} more)` : '';
    return items.slice(0, MAX_LIST).join(', ') + more;
  }
  return scalar(value);
}

/** Who, what and why first; the rest in the order the event gives it. */
const FIRST = [
  'subject', 'user', 'principal', 'requester', 'resource', 'resources', 'actions', 'purpose', 'justification', 'reason', 'by', 'revoked_by',
  'reviewer', 'campaign', 'due_at', 'expires_at', 'duration_seconds', 'tier', 'ticket', 'status',
];
/** Members that mean nothing to a person reading a chat message. */
const SKIPPED = new Set(['request_hash', 'revision', 'grant_ids', 'source_ref', 'break_glass']);

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * The `data` members a person reads first, as `[label, value]`, at most MAX_FIELDS. A nested object without a name
 * (`request: {…}`, `grant: {…}`) is opened one level, its `id` labelled after it (`request id`).
 */
export function summaryFields(data: Record<string, unknown>): Array<[string, string]> {
  const members: Array<[string, string, unknown]> = [];
  for (const [key, value] of Object.entries(data)) {
    if (isRecord(value) && typeof value.name !== 'string') {
      for (const [k, v] of Object.entries(value)) members.push([k, k === 'id' ? `${key} id` : k, v]);
    } else {
      members.push([key, key, value]);
    }
  }
  const rank = (key: string) => { const i = FIRST.indexOf(key); return i === -1 ? FIRST.length : i; };
  const ordered = members.map((m, i) => ({ m, i })).sort((a, b) => rank(a.m[0]) - rank(b.m[0]) || a.i - b.i).map((x) => x.m);
  const out: Array<[string, string]> = [];
  const seen = new Set<string>();
  for (const [key, label, value] of ordered) {
    if (SKIPPED.has(key) || seen.has(label)) continue;
    const text = shown(value);
    if (text === undefined || text === '') continue;
    seen.add(label);
    out.push([label.replace(/_/g, ' '), clip(text, MAX_VALUE)]);
    if (out.length === MAX_FIELDS) break;
  }
  return out;
}

export function slackBody(event: WebhookEvent): string {
  const title = TITLES[event.type] ?? event.type;
  const fields = summaryFields(event.data);
  const headline = fields.slice(0, 3).map(([k, v]) => `${k}: ${v}`).join(', ');
  const text = clip(slackEscape(headline ? `${title}: ${headline}` : title), 3000);
  const context = [
    ...(event.recipients && event.recipients.length > 0 ? [`for ${event.recipients.map((r) => r.name).join(', ')}`] : []),
    `\`${event.type}\``, event.time, `event ${event.id}`,
  ];
  const blocks: unknown[] = [{ type: 'header', text: { type: 'plain_text', text: clip(title, 150) } }];
  if (fields.length > 0) {
    blocks.push({ type: 'section', fields: fields.map(([k, v]) => ({ type: 'mrkdwn', text: clip(`*${slackEscape(k)}*\n${slackEscape(v)}`, 2000) })) });
  }
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: clip(slackEscape(context.join(' · ')), 3000) }] });
  return JSON.stringify({ text, blocks });
}

export function deliveryBody(format: WebhookFormat, event: WebhookEvent): string {
  return format === 'slack' ? slackBody(event) : jsonBody(event);
}
