import { OAuthError } from '../oauth-errors.js';

// Step: the form parameters of an OAuth request (application/x-www-form-urlencoded, RFC 6749 §3.2).
// Rules:
// - Every parameter appears at most once (RFC 6749 §3.1), except `resource` and `audience`, which may repeat
//   (RFC 8707 §2, RFC 8693 §2.1); a repeated one is invalid_request.
// - Values are at most 8 KiB and hold no control characters; more than 64 parameters is invalid_request.
// - Empty values count as absent (RFC 6749 §3.1).

const REPEATABLE = new Set(['resource', 'audience']);
const MAX_VALUE = 8192;
const MAX_PARAMS = 64;

export interface OAuthParams {
  one(name: string): string | undefined;
  many(name: string): string[];
  has(name: string): boolean;
}

export function readParams(body: unknown): OAuthParams {
  if (!(body instanceof URLSearchParams)) throw new OAuthError('invalid_request', 'send the parameters as application/x-www-form-urlencoded');
  const values = new Map<string, string[]>();
  let count = 0;
  for (const [name, value] of body) {
    if (++count > MAX_PARAMS) throw new OAuthError('invalid_request', 'too many parameters');
    if (value.length > MAX_VALUE) throw new OAuthError('invalid_request', `parameter ${name.slice(0, 40)} is too long`);
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(value) || /[^\x21-\x7e]/.test(name)) throw new OAuthError('invalid_request', 'parameters must not hold control characters');
    if (value === '') continue;
    const list = values.get(name) ?? [];
    list.push(value);
    values.set(name, list);
    if (list.length > 1 && !REPEATABLE.has(name)) throw new OAuthError('invalid_request', `parameter ${name} appears more than once`);
  }
  return {
    one: (name) => values.get(name)?.[0],
    many: (name) => values.get(name) ?? [],
    has: (name) => values.has(name),
  };
}

/** A required parameter. */
export function required(params: OAuthParams, name: string): string {
  const value = params.one(name);
  if (value === undefined) throw new OAuthError('invalid_request', `${name} is required`);
  return value;
}

/** The custom `expires_in` request parameter (seconds). */
export function requestedLifetime(params: OAuthParams): number | undefined {
  const raw = params.one('expires_in');
  if (raw === undefined) return undefined;
  if (!/^\d{1,9}$/.test(raw)) throw new OAuthError('invalid_request', 'expires_in must be a whole number of seconds');
  return Number(raw);
}
