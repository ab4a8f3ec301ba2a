import { describe, expect, it } from 'vitest';
import { systemActor } from '../platform/actor.js';
import type { Trx, WriteBatch } from '../platform/store/db.js';
import { createLeakRevoker, type LeakRevokerFn } from './leaks.js';

// The leak revoker routes each leak to the issuer of its kind, and to no other.

const trx = {} as Trx;
const batch = {} as WriteBatch;
const actor = systemActor();

function recorder(name: string, calls: string[]): LeakRevokerFn {
  return async (_trx, _batch, _actor, leak, details) => {
    calls.push(`${name}:${leak.id}:${leak.sha256Prefix}:${String(details.finding_id)}:${Object.keys(leak).sort().join(',')}`);
    return { liveness: 'revoked', ownerId: `owner-of-${leak.id}`, revoked: true };
  };
}

describe('createLeakRevoker', () => {
  it('dispatches op, ak and cs leaks to their own issuer, passing id, prefix and details (not the kind)', async () => {
    const calls: string[] = [];
    const revoker = createLeakRevoker({ op: recorder('op', calls), ak: recorder('ak', calls), cs: recorder('cs', calls) });
    for (const kind of ['op', 'ak', 'cs']) {
      const r = await revoker.revokeLeaked(trx, batch, actor, { kind, id: `id-${kind}`, sha256Prefix: '0123456789abcdef' }, { finding_id: `f-${kind}` });
      expect(r).toEqual({ liveness: 'revoked', ownerId: `owner-of-id-${kind}`, revoked: true });
    }
    expect(calls).toEqual([
      'op:id-op:0123456789abcdef:f-op:id,sha256Prefix',
      'ak:id-ak:0123456789abcdef:f-ak:id,sha256Prefix',
      'cs:id-cs:0123456789abcdef:f-cs:id,sha256Prefix',
    ]);
  });

  it('answers unknown, calling nobody, for a kind without an issuer (cs not given, or anything else)', async () => {
    const calls: string[] = [];
    const revoker = createLeakRevoker({ op: recorder('op', calls), ak: recorder('ak', calls) });
    for (const kind of ['cs', 'xx', 'constructor', '__proto__', '']) {
      expect(await revoker.revokeLeaked(trx, batch, actor, { kind, id: 'i', sha256Prefix: '0123456789abcdef' }, {}))
        .toEqual({ liveness: 'unknown', ownerId: null, revoked: false });
    }
    expect(calls).toEqual([]);
  });
});
