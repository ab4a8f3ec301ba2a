import net from 'node:net';
import type { Kysely } from 'kysely';
import type { DB } from '../platform/store/schema.js';
import * as requests from './requests.repo.js';

// Who may start a sign-in or device request: anyone, so the number running at once is bounded — per requester
// (so one source cannot lock everybody out) and overall (a backstop against many sources). A request lives 10
// minutes. Requesters are source addresses; IPv6 ones by their /64, which one host usually holds whole.

export const MAX_LIVE_REQUESTS = 10_000;
export const MAX_LIVE_PER_REQUESTER = 50;

/** The requester a source address counts as: an IPv4 address, an IPv6 /64 prefix, or 'unknown'. */
export function requesterOf(sourceIp: string | null): string {
  if (!sourceIp) return 'unknown';
  const ip = sourceIp.startsWith('::ffff:') && net.isIPv4(sourceIp.slice(7)) ? sourceIp.slice(7) : sourceIp;
  if (net.isIPv4(ip)) return ip;
  if (!net.isIPv6(ip)) return 'unknown';
  const [head = '', tail = ''] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = ip.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(':')}::/64`;
}

/** Why a new request from this requester is refused now, or null when it may start. */
export async function admissionRefusal(db: Kysely<DB>, now: string, requester: string): Promise<string | null> {
  if (await requests.countLive(db, now, requester) >= MAX_LIVE_PER_REQUESTER) return 'too many sign-ins were started from your address in the last minutes; finish or wait for those';
  if (await requests.countLive(db, now) >= MAX_LIVE_REQUESTS) return 'too many sign-ins are in progress; try again in a few minutes';
  return null;
}
