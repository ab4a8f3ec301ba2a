import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../support/backends.js';
import { startHarness, type Harness } from '../support/harness.js';

// The AuthZEN interop "Todo" scenario (examples/authzen-todo/): the example is loaded into a real control plane
// through the API, exactly as its README's `custos` commands load it into a running server (the README is checked
// against users.json here), and then every decision the interop publishes for the 1.0 wire format is sent, unchanged,
// to /access/v1/evaluation (single) and /access/v1/evaluations (batch) with the PEP's API key: every case must match.

const dir = new URL('../../examples/authzen-todo/', import.meta.url);
const read = (name: string) => fs.readFileSync(new URL(name, dir), 'utf8');

interface User { name: string; display_name: string; email: string; authzen_id: string; roles: string[] }
const { teams, users } = JSON.parse(read('users.json')) as { teams: string[]; users: User[] };
const decisions = JSON.parse(read('decisions-authorization-api-1_0-02.json')) as {
  evaluation: Array<{ request: Record<string, unknown>; expected: boolean }>;
  evaluations: Array<{ request: Record<string, unknown>; expected: Array<{ decision: boolean }> }>;
};
const README = read('README.md');
const teamOf = (role: string) => `todo-${role.replace(/_/g, '-')}`;

describe('examples/authzen-todo', () => {
  it('the README loads what users.json describes, with the custos CLI', () => {
    for (const team of teams) expect(README).toContain(`custos team add ${team}`);
    for (const u of users) {
      expect(README).toContain(`custos principal add ${u.name} --kind human --display-name "${u.display_name}" --label authzen_id=${u.authzen_id} --label email=${u.email}`);
      for (const role of u.roles) expect(README).toContain(`custos team add-member ${teamOf(role)} ${u.name}`);
    }
    expect(README).toContain('custos apikey create todo-backend --scope authz:evaluate');
    expect(README).toContain('policies.cedar');
    expect(decisions.evaluation.length).toBe(40);
    expect(decisions.evaluations.length).toBe(3);
  });
});

for (const backend of BACKENDS) {
  describe(`the interop Todo decisions against /access/v1 (${backend})`, () => {
    let h: Harness;
    let pepKey: string;
    const post = async (url: string, body: unknown) => {
      const r = await h.cp.http.inject({ method: 'POST', url, payload: JSON.stringify(body), headers: { 'content-type': 'application/json', authorization: `Bearer ${pepKey}` } });
      return { status: r.statusCode, body: JSON.parse(r.body) };
    };

    beforeAll(async () => {
      h = await startHarness(backend);
      const must = async (method: string, url: string, body: unknown) => {
        const r = await h.call(method, url, body);
        if (r.status >= 300) throw new Error(`${method} ${url}: ${r.status} ${r.text}`);
        return r.body;
      };
      for (const team of teams) await must('POST', '/v1/teams', { name: team });
      for (const u of users) {
        await must('POST', '/v1/principals', { name: u.name, kind: 'human', display_name: u.display_name, labels: { authzen_id: u.authzen_id, email: u.email } });
        for (const role of u.roles) await must('PUT', `/v1/teams/${teamOf(role)}/members/${u.name}`, { role: 'member' });
      }
      await must('POST', '/v1/principals', { name: 'todo-backend', kind: 'service_account', owner: 'bootstrap-admin', scopes: ['authz:evaluate'], status: 'active' });
      pepKey = (await must('POST', '/v1/api-keys', { principal: 'todo-backend', scope: ['authz:evaluate'] })).key ?? '';
      const candidate = await must('POST', '/v1/policies', { policies: read('policies.cedar'), app_schema: read('app-actions.cedarschema'), reason: 'AuthZEN Todo interop' });
      await must('POST', `/v1/policies/${candidate.version}/activate`, { reason: 'AuthZEN Todo interop' });
    }, 60_000);
    afterAll(async () => { await h?.close(); });

    it('every published single decision matches (/access/v1/evaluation)', async () => {
      const mismatches: string[] = [];
      for (const c of decisions.evaluation) {
        const r = await post('/access/v1/evaluation', c.request);
        if (r.status !== 200 || r.body.decision !== c.expected) mismatches.push(`${JSON.stringify(c.request)} → ${r.status} ${JSON.stringify(r.body)}, expected ${c.expected}`);
      }
      expect(mismatches).toEqual([]);
    });

    it('every published batch matches (/access/v1/evaluations), decision by decision and in order', async () => {
      const mismatches: string[] = [];
      for (const c of decisions.evaluations) {
        const r = await post('/access/v1/evaluations', c.request);
        const got = r.status === 200 ? (r.body.evaluations as Array<{ decision: boolean }>).map((e) => ({ decision: e.decision })) : r.body;
        if (JSON.stringify(got) !== JSON.stringify(c.expected)) mismatches.push(`${JSON.stringify(c.request)} → ${r.status} ${JSON.stringify(r.body)}`);
      }
      expect(mismatches).toEqual([]);
    });

    it('the single decisions also match when sent as one batch', async () => {
      const r = await post('/access/v1/evaluations', { evaluations: decisions.evaluation.map((c) => c.request) });
      expect(r.status).toBe(200);
      expect(r.body.evaluations.map((e: { decision: boolean }) => e.decision)).toEqual(decisions.evaluation.map((c) => c.expected));
    });

    it('an action search on a todo lists the application actions the subject may take', async () => {
      const rick = users.find((u) => u.roles.includes('admin'))!;
      const r = await post('/access/v1/search/action', { subject: { type: 'user', id: rick.authzen_id }, resource: { type: 'todo', id: '1', properties: { ownerID: 'someone-else@example.com' } } });
      expect(r.status).toBe(200);
      const names = (r.body.results as Array<{ name: string }>).map((a) => a.name);
      expect(names).toContain('can_delete_todo');
    });

    it('every decision was recorded, naming the PEP as the one who asked', async () => {
      const events = (await h.call('GET', '/v1/audit/events?type=authz.decision&order=desc&limit=5')).body.items as Array<Record<string, any>>;
      expect(events.length).toBe(5);
      for (const e of events) expect(e.actor.principal_name).toBe('todo-backend');
    });
  });
}
