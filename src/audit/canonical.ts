// Canonical event encoding: RFC 8785 JSON Canonicalization Scheme (JCS), UTF-8.
//
// The serialization itself is the `canonicalize` package (by an RFC 8785 author). Around it we
// add what a tamper-evident log needs: only plain JSON data is accepted (no Dates, Maps, class
// instances, toJSON hooks, undefined array slots, bigints or functions, which JSON would silently
// change), a depth limit, and a strict check that stored bytes are exactly canonical.
import canonicalize from 'canonicalize';
import { hashLeaf } from './merkle.js';

export const MAX_EVENT_DEPTH = 64;

export class CanonicalError extends Error {
  readonly code = 'audit_event_not_canonicalizable';
  constructor(message: string) {
    super(message);
    this.name = 'CanonicalError';
  }
}

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function check(value: unknown, path: string, depth: number): void {
  if (depth > MAX_EVENT_DEPTH) throw new CanonicalError(`${path}: nested deeper than ${MAX_EVENT_DEPTH}`);
  if (value === null || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new CanonicalError(`${path}: non-finite number`);
    return;
  }
  if (typeof value === 'string') {
    if (LONE_SURROGATE.test(value)) throw new CanonicalError(`${path}: string has a lone surrogate`);
    return;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      // Holes and undefined would become null: refuse rather than record something else.
      if (!(i in value) || value[i] === undefined) throw new CanonicalError(`${path}[${i}]: undefined array element`);
      check(value[i], `${path}[${i}]`, depth + 1);
    }
    return;
  }
  if (typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) throw new CanonicalError(`${path}: not a plain object`);
    if (typeof (value as { toJSON?: unknown }).toJSON === 'function') throw new CanonicalError(`${path}: has toJSON`);
    for (const key of Object.keys(value)) {
      if (LONE_SURROGATE.test(key)) throw new CanonicalError(`${path}: key has a lone surrogate`);
      const v = (value as Record<string, unknown>)[key];
      // An undefined property is simply absent, as in JSON.stringify (optional fields in TS objects).
      if (v === undefined) continue;
      check(v, `${path}.${key}`, depth + 1);
    }
    return;
  }
  throw new CanonicalError(`${path}: ${typeof value} is not JSON`);
}

/** RFC 8785 canonical JSON text of a plain JSON value. Throws CanonicalError for anything else. */
export function canonicalString(event: unknown): string {
  check(event, '$', 0);
  const s = canonicalize(event);
  if (typeof s !== 'string') throw new CanonicalError('$: value has no JSON representation');
  return s;
}

/** UTF-8 bytes of the canonical JSON text: what the Merkle leaf commits to. */
export function canonicalBytes(event: unknown): Buffer {
  return Buffer.from(canonicalString(event), 'utf8');
}

/** Leaf hash of an event: SHA-256(0x00 || canonical bytes). */
export function eventLeafHash(event: unknown): Buffer {
  return hashLeaf(canonicalBytes(event));
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Parses stored canonical bytes back into the event, refusing bytes that are not exactly the
 * canonical form (invalid UTF-8, whitespace, duplicate or unsorted keys, non-canonical numbers).
 */
export function parseCanonical(bytes: Uint8Array): JsonValue {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new CanonicalError('not valid UTF-8');
  }
  let value: JsonValue;
  try {
    value = JSON.parse(text) as JsonValue;
  } catch {
    throw new CanonicalError('not valid JSON');
  }
  if (canonicalString(value) !== text) throw new CanonicalError('bytes are valid JSON but not in canonical form');
  return value;
}

/** True when the bytes are exactly the RFC 8785 form of some JSON value. */
export function isCanonical(bytes: Uint8Array): boolean {
  try {
    parseCanonical(bytes);
    return true;
  } catch {
    return false;
  }
}
