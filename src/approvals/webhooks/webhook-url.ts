import net from 'node:net';
import { outboundUrlProblem } from '../../platform/url-rule.js';

// Where a webhook may point. Deliveries carry who asked for what access and who approved it, signed with the
// webhook's secret, so they travel over TLS; plain http is accepted only to this machine (a local relay, tests).
//
// Rules (pure; the service answers a problem with 422 invalid_webhook_url naming it):
// - An absolute URL, at most MAX_WEBHOOK_URL_LENGTH characters.
// - https with a host; or http only to a loopback host: an IPv4 address in 127.0.0.0/8 (as WHATWG URL parsing
//   normalises it, so `http://2130706433/` is 127.0.0.1 too), `[::1]`, or the name `localhost` itself (not a
//   subdomain of it, nor a name that merely resolves to a loopback address: that would be decided by DNS later).
// - No user name or password (credentials in a URL end up in logs and lists) and no fragment (never sent, so
//   only confusing). Any other scheme is refused.

export const MAX_WEBHOOK_URL_LENGTH = 2000;

/** Whether a URL's hostname (as `URL.hostname` gives it) is a loopback host plain http may go to. */
export function isLoopbackHost(hostname: string): boolean {
  if (hostname === 'localhost' || hostname === '[::1]') return true;
  return net.isIPv4(hostname) && hostname.startsWith('127.');
}

/** What is wrong with `value` as a webhook URL, or undefined when it is acceptable. */
export function webhookUrlProblem(value: string): string | undefined {
  if (value.length > MAX_WEBHOOK_URL_LENGTH) return `is longer than ${MAX_WEBHOOK_URL_LENGTH} characters`;
  return outboundUrlProblem(value, {
    allows: isLoopbackHost, refusal: 'must use https (plain http only to a loopback address: 127.0.0.0/8, [::1] or localhost)',
  });
}

/**
 * The part of a webhook URL the audit log and the server log may name: scheme, host and port. An incoming-webhook
 * URL (Slack's) carries its credential in the path, so the path and query are never recorded.
 */
export function urlOrigin(value: string): string {
  try {
    return new URL(value).origin;
  } catch {
    return '(invalid URL)';
  }
}
