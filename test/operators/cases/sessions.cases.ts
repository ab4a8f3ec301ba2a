import { createBrowser, pkcePair, signInWithOperatorToken, tokenRequest } from '../../support/signin.js';
import { readers, staff, type RouteCase, type World } from './shared.js';

// The sign-in module's /v1/sessions routes. Reading is for every role but owner; ending a session for admin and
// security (what an incident responder does), like revoking tokens.

async function aSession(w: World): Promise<string> {
  const pkce = pkcePair();
  const back = await signInWithOperatorToken(w.h, createBrowser(w.h), w.h.adminToken, { challenge: pkce.challenge });
  const t = await tokenRequest(w.h, {
    grant_type: 'authorization_code', code: back.searchParams.get('code')!, redirect_uri: 'http://127.0.0.1:53682/callback', client_id: 'custos-cli', code_verifier: pkce.verifier,
  });
  if (t.status !== 200) throw new Error(`session: ${JSON.stringify(t.body)}`);
  const list = await w.admin('GET', '/v1/sessions?active=true&limit=200');
  return (list.items as Array<{ id: string }>).at(-1)!.id;
}

export const SESSIONS_ROUTE_CASES: Record<string, RouteCase> = {
  'GET /v1/sessions': { expect: readers, build: async () => ({ method: 'GET', url: '/v1/sessions' }) },
  'GET /v1/sessions/{id}': { expect: readers, build: async (w) => ({ method: 'GET', url: `/v1/sessions/${await aSession(w)}` }) },
  'POST /v1/sessions/{id}/revoke': { expect: staff, build: async (w) => ({ method: 'POST', url: `/v1/sessions/${await aSession(w)}/revoke`, body: { reason: 'matrix' } }) },
};
