import { z } from 'zod';
import { errors } from './errors.js';

// Keyset pagination over time-ordered ids: the cursor is the last id of the previous page, opaque to clients.

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 500;

export const paginationQuery = {
  limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(DEFAULT_LIMIT)
    .describe(`Page size, 1-${MAX_LIMIT}`),
  cursor: z.string().max(200).optional().describe('Opaque cursor from the previous page\'s next_cursor'),
};

export function encodeCursor(lastKey: string | number): string {
  return Buffer.from(JSON.stringify({ k: lastKey }), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined): string | number | undefined {
  if (cursor === undefined) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { k?: unknown };
    if (typeof parsed.k === 'string' || typeof parsed.k === 'number') return parsed.k;
  } catch {
    // fall through
  }
  throw errors.validation('cursor is not valid; pass next_cursor from a previous page unchanged');
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
