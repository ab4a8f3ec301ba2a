import crypto from 'node:crypto';

// The rules of one delivery attempt, pure so they are tested exactly: the signature a receiver checks, when a failed
// delivery is tried again, when it is given up (dead), and what of a failure is kept in the delivery log.
//
// - Signature: `Custos-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. The timestamp is
//   signed with the body, so a receiver that refuses an old `t` (five minutes is the usual window) is not open to a
//   replay of a captured delivery; it is signed afresh at every attempt (the body itself never changes). The key
//   is the secret's UTF-8 bytes.
// - Backoff: attempt n failed → the next one BASE_BACKOFF_SECONDS × 2^(n−1) later, at most MAX_BACKOFF_SECONDS;
//   no randomness (the schedule is the documented one; nodes never collide on a row because rows are claimed).
// - Dead after MAX_ATTEMPTS failed attempts (about three hours of trying); an operator may put it back (retry).
// - Only a 2xx answer delivers. A redirect is a failure: deliveries are not forwarded to where a receiver points.
// - The log keeps the status and a bounded, single-line error text: never a header, never the secret.

export const BASE_BACKOFF_SECONDS = 30;
export const MAX_BACKOFF_SECONDS = 3600;
export const MAX_ATTEMPTS = 10;
/** How long one attempt may take, connection included. */
export const DELIVERY_TIMEOUT_MS = 10_000;
/** A claimed row is left alone by other nodes (and by this one) this long: longer than any attempt can take. */
export const LEASE_SECONDS = 60;
export const MAX_ERROR_LENGTH = 300;

export const SIGNATURE_HEADER = 'Custos-Signature';
/** A secret someone gives: 32-256 printable ASCII characters without spaces (generated ones are 43 base64url). */
export const MIN_SECRET_LENGTH = 32;
export const MAX_SECRET_LENGTH = 256;
export const SECRET_PATTERN = /^[\x21-\x7e]+$/;

/** Seconds from a failed attempt number `attempt` (1-based) to the next one. */
export function backoffSeconds(attempt: number): number {
  const n = Math.max(1, Math.floor(attempt));
  return Math.min(MAX_BACKOFF_SECONDS, BASE_BACKOFF_SECONDS * 2 ** Math.min(n - 1, 30));
}

/** The signature header's value for `body` sent at `unixSeconds`. */
export function signatureHeader(secret: Buffer | string, unixSeconds: number, body: string): string {
  const t = Math.floor(unixSeconds);
  const v1 = crypto.createHmac('sha256', secret).update(`${t}.${body}`, 'utf8').digest('hex');
  return `t=${t},v1=${v1}`;
}

export function isDelivered(status: number): boolean {
  return status >= 200 && status < 300;
}

/** What the row becomes after a failed attempt number `attempts` (1-based) at `now`. */
export function afterFailure(attempts: number, now: Date): { status: 'pending'; next_attempt_at: string } | { status: 'dead'; next_attempt_at: null } {
  if (attempts >= MAX_ATTEMPTS) return { status: 'dead', next_attempt_at: null };
  return { status: 'pending', next_attempt_at: new Date(now.getTime() + backoffSeconds(attempts) * 1000).toISOString() };
}

/** One line, at most MAX_ERROR_LENGTH characters, with every occurrence of `hide` (e.g. the URL) replaced. */
export function errorText(text: string, hide: Array<[string, string]> = []): string {
  let out = text;
  for (const [secret, shown] of hide) if (secret) out = out.split(secret).join(shown);
  // eslint-disable-next-line no-control-regex
  out = out.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').trim();
  return out.length > MAX_ERROR_LENGTH ? `${out.slice(0, MAX_ERROR_LENGTH - 1)}…` : out;
}

/** A transport failure described for the delivery log: the error's code and message, and its cause's. */
export function describeFailure(error: unknown): string {
  const name = (error as { name?: unknown } | null)?.name;
  if (name === 'AbortError' || name === 'TimeoutError') return `timed out after ${DELIVERY_TIMEOUT_MS / 1000} s`;
  const parts: string[] = [];
  let e: unknown = error;
  for (let depth = 0; e && depth < 3; depth += 1) {
    if (e instanceof Error) {
      const code = (e as NodeJS.ErrnoException).code;
      parts.push(code && !e.message.includes(code) ? `${code}: ${e.message}` : e.message);
      e = e.cause;
    } else {
      parts.push(String(e));
      break;
    }
  }
  return parts.join(': ') || 'delivery failed';
}

/** Whether a webhook subscribed to `events` (stored list; empty means every type) receives an event of `type`. */
export function subscribes(events: readonly string[], type: string): boolean {
  return events.length === 0 || events.includes(type);
}

/** A subscription list without repeats, in the catalogue's order (so equal subscriptions are stored equally). */
export function normaliseEvents<T extends string>(given: readonly T[], catalogue: readonly T[]): T[] {
  const set = new Set(given);
  return catalogue.filter((t) => set.has(t));
}
