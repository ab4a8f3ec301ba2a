import { describe, expect, it } from 'vitest';
import { deliveryBody, jsonBody, slackBody, slackEscape, summaryFields, type WebhookEvent } from './payload.js';

const event: WebhookEvent = {
  id: '0190a6f0-0000-7000-8000-000000000001',
  type: 'request.created',
  time: '2026-02-01T10:00:00.000Z',
  data: {
    request_id: '0190a6f0-0000-7000-8000-00000000000a',
    subject: { id: 'p1', name: 'support-bot' },
    resources: [{ id: 'r1', name: 'tickets' }, { id: 'r2', name: 'corpus' }],
    actions: ['read', 'invoke'],
    duration_seconds: 3600,
    urgent: false,
    justification: 'INC-7 <!channel> & <https://evil.example|click>',
    requirement: { approvals: 2 },
    ticket: null,
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

  it('summary fields: scalars, names of objects, short lists; nothing else', () => {
    expect(summaryFields(event.data)).toEqual([
      ['request id', '0190a6f0-0000-7000-8000-00000000000a'],
      ['subject', 'support-bot'],
      ['resources', 'tickets, corpus'],
      ['actions', 'read, invoke'],
      ['duration seconds', '3600'],
      ['urgent', 'false'],
      ['justification', 'INC-7 <!channel> & <https://evil.example|click>'],
    ]);
    const many = summaryFields({ list: Array.from({ length: 12 }, (_, i) => `x${i}`), long: 'y'.repeat(500) });
    expect(many[0]).toEqual(['list', 'x0, x1, x2, x3, x4, x5, x6, x7, x8, x9 (+2 more)']);
    expect(many[1]![1]).toHaveLength(300);
    expect(summaryFields(Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`k${i}`, i])))).toHaveLength(10);
  });

  it('slack: a fallback text, a header, fields and a context line; user text escaped', () => {
    const body = JSON.parse(slackBody(event));
    expect(Object.keys(body)).toEqual(['text', 'blocks']);
    expect(body.text).toBe('Access request created: request id: 0190a6f0-0000-7000-8000-00000000000a, subject: support-bot, resources: tickets, corpus');
    expect(body.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: 'Access request created' } });
    expect(body.blocks[1].type).toBe('section');
    expect(body.blocks[1].fields).toHaveLength(7);
    expect(body.blocks[1].fields[1]).toEqual({ type: 'mrkdwn', text: '*subject*\nsupport-bot' });
    expect(body.blocks[1].fields[6].text).toBe('*justification*\nINC-7 &lt;!channel&gt; &amp; &lt;https://evil.example|click&gt;');
    expect(body.blocks[2]).toEqual({ type: 'context', elements: [{ type: 'mrkdwn', text: `for alice, bob · \`request.created\` · 2026-02-01T10:00:00.000Z · event ${event.id}` }] });
    expect(slackBody(event)).not.toMatch(/<!channel>|<https:/);
    expect(deliveryBody('slack', event)).toBe(slackBody(event));
  });

  it('slack: an event without data members to show has no section; unknown types are named as they are', () => {
    const body = JSON.parse(slackBody({ id: 'e', type: 'something.new', time: 't', data: { nested: { deep: 1 } } }));
    expect(body.text).toBe('something.new');
    expect(body.blocks.map((b: { type: string }) => b.type)).toEqual(['header', 'context']);
  });

  it('escaping', () => {
    expect(slackEscape('a & b < c > d')).toBe('a &amp; b &lt; c &gt; d');
  });
});
