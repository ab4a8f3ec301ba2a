import { describe, expect, it } from 'vitest';
import { deliveryBody, jsonBody, slackBody, slackEscape, summaryFields, type WebhookEvent } from './payload.js';

// Shaped like the requests part's `request.created`: the request under `request`, people and resources by name.
const event: WebhookEvent = {
  id: '0190a6f0-0000-7000-8000-000000000001',
  type: 'request.created',
  time: '2026-02-01T10:00:00.000Z',
  data: {
    request: {
      id: '0190a6f0-0000-7000-8000-00000000000a', kind: 'access', status: 'pending',
      requester: { id: 'h9', name: 'alice-dev', kind: 'human' }, accountable: null, subject: { id: 'p1', name: 'support-bot', kind: 'agent' },
      resources: [{ id: 'r1', name: 'tickets', kind: 'dataset' }, { id: 'r2', name: 'corpus', kind: 'dataset' }], actions: ['read', 'invoke'],
      purpose: 'support', tier: 'high', justification: 'INC-7 <!channel> & <https://evil.example|click>', duration_seconds: 3600, ticket: null,
      request_hash: 'ab'.repeat(32), revision: 1, pending_until: '2026-02-08T10:00:00.000Z', needs: [{ group: 'security', count: 1 }], grant_ids: [],
    },
  },
  recipients: [{ id: 'h1', name: 'alice' }, { id: 'h2', name: 'bob' }],
};

describe('webhook payloads', () => {
  it('json: exactly id, type, time, data and recipients', () => {
    expect(JSON.parse(jsonBody(event))).toEqual({ id: event.id, type: event.type, time: event.time, data: event.data, recipients: event.recipients });
    const bare = JSON.parse(jsonBody({ ...event, recipients: [] }));
    expect(Object.keys(bare)).toEqual(['id', 'type', 'time', 'data']);
    expect(deliveryBody('json', event)).toBe(jsonBody(event));
  });

  it('summary fields: who, what and why first; nested records opened; hashes and ids lists left out', () => {
    expect(summaryFields(event.data)).toEqual([
      ['subject', 'support-bot'],
      ['requester', 'alice-dev'],
      ['resources', 'tickets, corpus'],
      ['actions', 'read, invoke'],
      ['purpose', 'support'],
      ['justification', 'INC-7 <!channel> & <https://evil.example|click>'],
      ['duration seconds', '3600'],
      ['tier', 'high'],
      ['status', 'pending'],
      ['request id', '0190a6f0-0000-7000-8000-00000000000a'],
    ]);
    const grant = summaryFields({ grant: { id: 'g1', principal: { id: 'p', name: 'bot' }, resource: { id: 'r', name: 'kb' }, source_ref: 'x' }, reason: 'done', revoked_by: { id: null, name: 'system:background' } });
    expect(grant).toEqual([['principal', 'bot'], ['resource', 'kb'], ['reason', 'done'], ['revoked by', 'system:background'], ['grant id', 'g1']]);
    const many = summaryFields({ list: Array.from({ length: 12 }, (_, i) => `x${i}`), long: 'y'.repeat(500), flag: false, nothing: null });
    expect(many[0]).toEqual(['list', 'x0, x1, x2, x3, x4, x5, x6, x7, x8, x9 (+2 more)']);
    expect(many[1]![1]).toHaveLength(300);
    expect(many[2]).toEqual(['flag', 'false']);
    expect(many).toHaveLength(3);
    expect(summaryFields(Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i])))).toHaveLength(10);
  });

  it('slack: a fallback text, a header, fields and a context line; user text escaped', () => {
    const body = JSON.parse(slackBody(event));
    expect(Object.keys(body)).toEqual(['text', 'blocks']);
    expect(body.text).toBe('Access request created: subject: support-bot, requester: alice-dev, resources: tickets, corpus');
    expect(body.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'Access request created' } });
    expect(body.blocks[1].type).toBe('section');
    expect(body.blocks[1].fields).toHaveLength(10);
    expect(body.blocks[1].fields[0]).toEqual({ type: 'mrkdwn', text: '*subject*\nsupport-bot' });
    expect(body.blocks[1].fields[5].text).toBe('*justification*\nINC-7 &lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;');
    expect(body.blocks[2]).toEqual({ type: 'context', elements: [{ type: 'mrkdwn', text: `for alice, bob · \`request.created\` · 2026-02-01T10:00:00.000Z · event ${event.id}` }] });
    expect(slackBody(event)).not.toMatch(/<!channel>|<https:/);
    expect(deliveryBody('slack', event)).toBe(slackBody(event));
  });

  it('slack: an event without data members to show has no section; unknown types are named as they are', () => {
    const body = JSON.parse(slackBody({ id: 'e', type: 'something.new', time: 't', data: { nested: { deeper: { deepest: 1 } }, list: [{ no: 'name' }] } }));
    expect(body.text).toBe('something.new');
    expect(body.blocks.map((b: { type: string }) => b.type)).toEqual(['header', 'context']);
  });

  it('escaping', () => {
    expect(slackEscape('a & b < c > d')).toBe('a &amp; b &lt; c &gt; d');
  });
});
