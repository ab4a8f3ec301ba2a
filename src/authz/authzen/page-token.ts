import crypto from 'node:crypto';
import { AppError } from '../../platform/http/errors.js';
import { decodeCursor, encodeCursor } from '../../platform/http/pagination.js';
import { DEFAULT_PAGE_LIMIT } from './authzen.schemas.js';
import { stableJson } from './mapping.js';

// Search page tokens (AuthZEN §8.3): opaque to the PEP, MAC'd like every list cursor of the API (platform/http/
// pagination.ts, so any node of the installation accepts them and nobody can forge one). A token carries where the
// next page starts in the candidate list, the page size, and a digest of the search it belongs to:
// - a token presented with another search (any entity or context changed) is 400 (§8.3: "SHOULD return an error");
// - a follow-up that omits `limit` keeps the first page's limit; one that changes it is 400.

export interface PagePosition {
  offset: number;
  limit: number;
}

export function searchDigest(kind: string, search: Record<string, unknown>): string {
  const { page: _page, ...rest } = search;
  return crypto.createHash('sha256').update(`${kind}\n${stableJson(rest)}`).digest('base64url').slice(0, 22);
}

export function encodePageToken(digest: string, position: PagePosition): string {
  return encodeCursor(`${digest}.${position.offset}.${position.limit}`);
}

export function pagePosition(digest: string, page: { token?: string; limit?: number } | undefined): PagePosition {
  if (!page?.token) return { offset: 0, limit: page?.limit ?? DEFAULT_PAGE_LIMIT };
  const key = decodeCursor(page.token);
  const [tokenDigest, offset, limit] = String(key).split('.');
  if (tokenDigest !== digest || offset === undefined || limit === undefined) {
    throw new AppError('invalid_cursor', 'page.token belongs to another search: send the same subject, action, resource and context as the first page');
  }
  const position = { offset: Number(offset), limit: Number(limit) };
  if (page.limit !== undefined && page.limit !== position.limit) {
    throw new AppError('invalid_cursor', `page.limit changed mid-pagination (the first page asked for ${position.limit})`);
  }
  return position;
}
