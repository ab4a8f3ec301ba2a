import type { AuditWriter } from '../../audit/index.js';
import { createIdentityDirectory, createResourceService, createTeamResolver } from '../../identity/index.js';
import { systemActor } from '../../platform/actor.js';
import type { Clock } from '../../platform/clock.js';
import { AppError } from '../../platform/http/errors.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { Database } from '../../platform/store/db.js';
import type { TargetKind } from './limits.js';
import type { LimitTarget, LimitTargets } from './ports.js';

// The LimitTargets port over identity's public surface (its index.ts: the identity directory, the team resolver,
// the resource service), used when the composition root passes no port of its own. Reads only, never inside a
// write job: a target is resolved before the limit's transaction (on SQLite a read outside the job's transaction
// would wait for it). A target removed between the check and the write leaves an inert limit (ids are never reused).

export function identityLimitTargets(deps: { db: Database; audit: AuditWriter; clock: Clock; newId: IdGenerator }): LimitTargets {
  const directory = createIdentityDirectory({ db: deps.db });
  const teams = createTeamResolver({ db: deps.db });
  const resources = createResourceService(deps);
  const reader = systemActor('background');

  async function resource(ref: string): Promise<LimitTarget | undefined> {
    try {
      const r = await resources.get(reader, ref);
      return { id: r.id, name: r.name };
    } catch (error) {
      if (error instanceof AppError && error.code === 'not_found') return undefined;
      throw error;
    }
  }

  const find = async (kind: TargetKind, ref: string): Promise<LimitTarget | undefined> => {
    if (kind === 'principal') {
      const p = await directory.principalByRef(ref);
      return p ? { id: p.id, name: p.name } : undefined;
    }
    if (kind === 'team') return (await teams.teamsByRef([ref])).get(ref);
    return resource(ref);
  };

  return {
    find,
    async names(kind, ids) {
      if (kind === 'principal') return directory.principalNames([...ids]);
      const out = new Map<string, string>();
      if (kind === 'team') {
        for (const [id, t] of await teams.teamsByRef([...ids])) out.set(id, t.name);
        return out;
      }
      for (const id of ids) {
        const r = await resource(id);
        if (r) out.set(id, r.name);
      }
      return out;
    },
  };
}
