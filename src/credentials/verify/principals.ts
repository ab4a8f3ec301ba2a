import { reject, type Check, type PrincipalRecord } from './context.js';

// Step 9: the subject and every principal of the act chain exist and are active.
//
// Rules:
// - Each of [sub, ...act chain] is looked up (in parallel); one that does not exist → unknown_principal; one
//   whose status is not 'active' → principal_not_active.
// - A token found in the verified-token cache may bring the lookup with it (fresh for PRINCIPALS_FRESH_SECONDS);
//   that is safe because suspending or decommissioning a principal also revokes its tokens, which
//   revocation.ts checks every time. The cached statuses are checked again all the same.

export const principals: Check = async (state, deps) => {
  const c = state.claims!;
  const ids = [...new Set([c.sub, ...state.actChain!])];
  let found = state.principals;
  if (!found) {
    const records = await Promise.all(ids.map((id) => deps.principals(id)));
    found = new Map<string, PrincipalRecord>();
    ids.forEach((id, i) => { if (records[i]) found!.set(id, records[i]!); });
  }
  for (const id of ids) {
    const record = found.get(id);
    if (!record) reject(state, 'unknown_principal', 'a principal the token names does not exist');
    if (record.principal.status !== 'active') reject(state, 'principal_not_active', `a principal the token names is ${record.principal.status}`);
  }
  state.principals = found;
};
