import crypto from 'node:crypto';
import { z } from 'zod';
import { AppError } from './errors.js';

// Keyset pagination over time-ordered ids: the cursor is the last key of the previous page, opaque to clients
// and tamper-evident: its payload carries an HMAC (a key derived from the master key, so every node of one
// installation accepts every other's cursors). A cursor this server did not issue is 400 `invalid_cursor`
// before it gets near a query.

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;
const MAC_BYTES = 16;

export const paginationQuery = {
  limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(DEFAULT_LIMIT)
    .describe(`Page size, 1-${MAX_LIMIT}`),
  cursor: z.string().max(400).optional().describe('Opaque cursor from the previous page\'s next_cursor'),
};

// Until the server sets the installation's key (at start, after unsealing) a per-process random key is used,
// so cursors are never unauthenticated.
let cursorKey: Buffer = crypto.randomBytes(32);

/** Sets the key cursors are signed with; called once by the composition root. */
export function setCursorKey(key: Buffer): void {
  cursorKey = Buffer.from(key);
}

function mac(payload: string): Buffer {
  return crypto.createHmac('sha256', cursorKey).update(payload).digest().subarray(0, MAC_BYTES);
}

export function encodeCursor(lastKey: string | number): string {
  const payload = Buffer.from(JSON.stringify({ k: lastKey }), 'utf8').toString('base64url');
  return `${payload}.${mac(payload).toString('base64url')}`;
}

export function decodeCursor(cursor: string | undefined): string | number | undefined {
  if (cursor === undefined) return undefined;
  const dot = cursor.indexOf('.');
  if (dot > 0) {
    const payload = cursor.slice(0, dot);
    const given = Buffer.from(cursor.slice(dot + 1), 'base64url');
    if (given.length === MAC_BYTES && crypto.timingSafeEqual(given, mac(payload))) {
      try {
        const parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { k?: unknown };
        if (typeof parsed.k === 'string' || typeof parsed.k === 'number') return parsed.k;
      } catch {
        // fall through: a cursor we signed always parses
      }
    }
  }
  throw new AppError('invalid_cursor', 'cursor was not issued by this server; pass next_cursor from a previous page unchanged');
}

/** Takes limit+1 rows and returns the page with the cursor for the next one. */
export function pageOf<T>(rows: T[], limit: number, keyOf: (row: T) => string | number): { items: T[]; next_cursor: string | null } {
  const hasMore = rows.length > limit;
  const items = hasMore ? rows.slice(0, limit) : rows;
  const last = items[items.length - 1];
  return { items, next_cursor: hasMore && last !== undefined ? encodeCursor(keyOf(last)) : null };
}

export function pageSchema<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), next_cursor: z.string().nullable() });
}
