import { all, managers, ownedResource, staff, type Role, type RouteCase, type World } from './shared.js';

// Break-glass (/v1/break-glass). Admin, security and owners hold breakglass.use, but only members of the break-glass
// team open it (so each case first puts the role's own operator on the team); auditors never. Everyone who reads
// requests reads break-glass accesses (owners their own). Admin and security close reviews, never their own (so
// the access under review is opened by a separate person); the user, admin and security end an access early.

const JUSTIFICATION = 'matrix: checking the role table for break-glass';
const bgUsers = new WeakMap<World, Promise<string>>();

/** The configured break-glass team, created when missing. */
async function team(w: World): Promise<string> {
  const name = (await w.admin('GET', '/v1/approval-settings')).settings.break_glass_team as string;
  if ((await w.h.call('GET', `/v1/teams/${name}`)).status === 404) await w.admin('POST', '/v1/teams', { name });
  return name;
}

async function onTeam(w: World, person: string): Promise<void> {
  await w.admin('PUT', `/v1/teams/${await team(w)}/members/${person}`, { role: 'member' });
}

/** A person on the team, other than the four role operators, with an owner-role token (their accesses get reviewed). */
function bgUser(w: World): Promise<string> {
  let token = bgUsers.get(w);
  if (!token) {
    token = (async () => {
      const name = w.uniq('bg-user');
      await w.admin('POST', '/v1/principals', { name, kind: 'human' });
      await onTeam(w, name);
      return (await w.admin('POST', '/v1/operator-tokens', { principal: name, role: 'owner' })).token as string;
    })();
    bgUsers.set(w, token);
  }
  return token;
}

async function openAs(w: World, token: string): Promise<string> {
  const r = await w.h.call('POST', '/v1/break-glass', { resource: await ownedResource(w), actions: ['read'], justification: JUSTIFICATION, duration_seconds: 300 }, token);
  if (r.status !== 201) throw new Error(`opening break-glass: ${r.status} ${r.text}`);
  return r.body.id as string;
}

/** An access the role may act on as its own user (owners), or one a separate person opened (everyone else). */
async function accessFor(w: World, role: Role): Promise<string> {
  if (role === 'owner') {
    await onTeam(w, w.names.owner);
    return openAs(w, w.tokens.owner);
  }
  return openAs(w, await bgUser(w));
}

export const APPROVALS_BREAK_GLASS_ROUTE_CASES: Record<string, RouteCase> = {
  'POST /v1/break-glass': {
    expect: managers,
    build: async (w, role) => {
      await onTeam(w, w.names[role]);
      return { method: 'POST', url: '/v1/break-glass', body: { resource: await ownedResource(w), actions: ['read', 'invoke'], justification: JUSTIFICATION, duration_seconds: 300, ticket: 'MATRIX-1' } };
    },
  },
  'GET /v1/break-glass': { expect: all('ok'), build: async () => ({ method: 'GET', url: '/v1/break-glass?review=open&limit=5' }) },
  'GET /v1/break-glass/{id}': { expect: all('ok'), build: async (w, role) => ({ method: 'GET', url: `/v1/break-glass/${await accessFor(w, role)}` }) },
  'POST /v1/break-glass/{id}/close': {
    expect: staff,
    build: async (w) => ({ method: 'POST', url: `/v1/break-glass/${await openAs(w, await bgUser(w))}/close`, body: { finding: 'matrix: needed, used as justified' } }),
  },
  'POST /v1/break-glass/{id}/end': {
    expect: managers,
    build: async (w, role) => ({ method: 'POST', url: `/v1/break-glass/${await accessFor(w, role)}/end`, body: { reason: 'matrix' } }),
  },
};
