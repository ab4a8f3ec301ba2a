import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  afterFailure, backoffSeconds, describeFailure, errorText, isDelivered, MAX_ATTEMPTS, MAX_BACKOFF_SECONDS, MAX_ERROR_LENGTH, normaliseEvents,
  signatureHeader, subscribes,
} from './delivery-rules.js';
import { NOTIFICATION_TYPES } from '../notifications.js';

describe('delivery rules', () => {
  it('backoff doubles from 30 s and stops at an hour', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 50].map(backoffSeconds)).toEqual([30, 60, 120, 240, 480, 960, 1920, 3600, 3600, 3600, 3600]);
    expect(backoffSeconds(0)).toBe(30);
    expect(backoffSeconds(1e9)).toBe(MAX_BACKOFF_SECONDS);
  });

  it('a failed attempt schedules the next one, the last one makes the delivery dead', () => {
    const now = new Date('2026-02-01T10:00:00.000Z');
    expect(afterFailure(1, now)).toEqual({ status: 'pending', next_attempt_at: '2026-02-01T10:00:30.000Z' });
    expect(afterFailure(3, now)).toEqual({ status: 'pending', next_attempt_at: '2026-02-01T10:02:00.000Z' });
    expect(afterFailure(MAX_ATTEMPTS - 1, now).status).toBe('pending');
    expect(afterFailure(MAX_ATTEMPTS, now)).toEqual({ status: 'dead', next_attempt_at: null });
    // The whole schedule: about three hours from the first failure to the last attempt.
    let total = 0;
    for (let a = 1; a < MAX_ATTEMPTS; a++) total += backoffSeconds(a);
    expect(total).toBe(30 + 60 + 120 + 240 + 480 + 960 + 1920 + 3600 + 3600);
  });

  it('only 2xx delivers; redirects and errors do not', () => {
    expect([200, 201, 204, 299].every(isDelivered)).toBe(true);
    expect([100, 199, 301, 302, 304, 400, 410, 500, 503].some(isDelivered)).toBe(false);
  });

  it('the signature is hex HMAC-SHA256 over "<t>.<body>" with the secret (a fixed vector)', () => {
    const secret = 'whsec-test-0123456789abcdef0123456789abcdef';
    const body = '{"id":"e1","type":"webhook.test","time":"2026-02-01T10:00:00.000Z","data":{}}';
    const header = signatureHeader(secret, 1_769_940_000.9, body);
    const expected = crypto.createHmac('sha256', Buffer.from(secret, 'utf8')).update(`1769940000.${body}`).digest('hex');
    expect(header).toBe(`t=1769940000,v1=${expected}`);
    expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(signatureHeader(Buffer.from(secret), 1_769_940_000, body)).toBe(header);
    // A different time or body signs differently.
    expect(signatureHeader(secret, 1_769_940_001, body)).not.toBe(header);
    expect(signatureHeader(secret, 1_769_940_000, `${body} `)).not.toBe(header);
  });

  it('error texts are one bounded line with what must not be shown replaced', () => {
    const url = 'https://hooks.slack.com/services/T0/B0/SECRETPATH';
    expect(errorText(`connect to ${url} failed\nline two`, [[url, 'https://hooks.slack.com']])).toBe('connect to https://hooks.slack.com failed line two');
    const long = errorText('x'.repeat(1000));
    expect(long.length).toBe(MAX_ERROR_LENGTH);
    expect(long.endsWith('…')).toBe(true);
  });

  it('failures are described by code, message and cause', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    expect(describeFailure(new TypeError('fetch failed', { cause }))).toBe('fetch failed: connect ECONNREFUSED 127.0.0.1:9');
    const abort = new Error('This operation was aborted');
    abort.name = 'AbortError';
    expect(describeFailure(abort)).toBe('timed out after 10 s');
    expect(describeFailure(Object.assign(new Error('boom'), { code: 'EPIPE' }))).toBe('EPIPE: boom');
    expect(describeFailure('odd')).toBe('odd');
  });
});

describe('subscriptions', () => {
  it('an empty list is every event; otherwise the listed ones only', () => {
    expect(subscribes([], 'request.created')).toBe(true);
    expect(subscribes(['grant.revoked'], 'grant.revoked')).toBe(true);
    expect(subscribes(['grant.revoked'], 'request.created')).toBe(false);
  });

  it('lists are stored without repeats in the catalogue order', () => {
    expect(normaliseEvents(['review.due', 'request.created', 'review.due'], NOTIFICATION_TYPES)).toEqual(['request.created', 'review.due']);
    expect(normaliseEvents([], NOTIFICATION_TYPES)).toEqual([]);
  });
});
