import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS } from '../support/backends.js';
import { startHarness, type Harness } from '../support/harness.js';
import { createBrowser, csrfOf, tokenRequest, type Browser } from '../support/signin.js';

// The device authorization grant (RFC 8628) for headless machines: the device asks for a code, the person enters
// the user code on any browser, signs in and consents, the device polls until it gets tokens.

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

for (const backend of BACKENDS) {
  describe(`device authorization grant (${backend})`, () => {
    let h: Harness;
    beforeAll(async () => { h = await startHarness(backend); });
    afterAll(async () => { await h?.close(); });

    async function startDevice(form: Record<string, string> = { client_id: 'custos-cli' }) {
      const res = await h.cp.http.inject({ method: 'POST', url: '/oauth/device_authorization', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(form).toString() });
      return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, any> };
    }
    const poll = (deviceCode: string) => tokenRequest(h, { grant_type: DEVICE_GRANT, device_code: deviceCode, client_id: 'custos-cli' });

    /** The person's part: enter the code, sign in, see the code on the consent page, decide. */
    async function personEnters(b: Browser, userCode: string, decision: 'approve' | 'deny') {
      const entry = await b.get('/device');
      const entered = await b.post('/device', { csrf: csrfOf(entry.body), user_code: userCode });
      expect(entered.status, entered.body).toBe(303);
      const signin = await b.get(entered.location!);
      expect(signin.body).toContain(userCode.length === 9 ? userCode : '');
      const signedIn = await b.post(`${entered.location}/token`, { csrf: csrfOf(signin.body), token: h.adminToken });
      const consent = await b.get(signedIn.location!);
      // Device-code phishing (RFC 8628 §5.4): the page says who started the request and when.
      expect(consent.body).toMatch(/Allow only if you started signing in on a device in front of you/);
      expect(consent.body).toContain('127.0.0.1');
      return b.post(`${entered.location}/consent`, { csrf: csrfOf(consent.body), decision });
    }

    it('issues codes, says pending and slow_down while the person signs in, then tokens once', async () => {
      const started = await startDevice();
      expect(started.status).toBe(200);
      expect(started.body).toMatchObject({ verification_uri: `${h.cp.issuer()}/device`, expires_in: 600, interval: 5 });
      expect(started.body.user_code).toMatch(/^[B-DF-HJ-NP-TV-XZ]{4}-[B-DF-HJ-NP-TV-XZ]{4}$/);
      expect(started.body.verification_uri_complete).toContain(encodeURIComponent(started.body.user_code));

      expect((await poll(started.body.device_code)).body.error).toBe('authorization_pending');
      expect((await poll(started.body.device_code)).body.error).toBe('slow_down');

      // Typed in lower case without the dash: still the code.
      const done = await personEnters(createBrowser(h), started.body.user_code.replace('-', '').toLowerCase(), 'approve');
      expect(done.status).toBe(200);
      expect(done.body).toMatch(/return to your device/);

      h.clock.advance(6000);
      const tokens = await poll(started.body.device_code);
      expect(tokens.status, JSON.stringify(tokens.body)).toBe(200);
      expect(tokens.body.refresh_token).toMatch(/^custos_rt_/);
      expect((await h.call('GET', '/v1/whoami', undefined, tokens.body.access_token)).body.role).toBe('admin');

      // A second redemption: refused, and the session it started ends.
      h.clock.advance(6000);
      expect((await poll(started.body.device_code)).body.error).toBe('invalid_grant');
      expect((await h.call('GET', '/v1/whoami', undefined, tokens.body.access_token)).status).toBe(401);
    });

    it('a denial is access_denied; an expired code is expired_token; a code entered in a second browser is refused', async () => {
      const denied = await startDevice();
      await personEnters(createBrowser(h), denied.body.user_code, 'deny');
      expect((await poll(denied.body.device_code)).body.error).toBe('access_denied');

      const shared = await startDevice();
      const first = createBrowser(h);
      const entry = await first.get('/device');
      expect((await first.post('/device', { csrf: csrfOf(entry.body), user_code: shared.body.user_code })).status).toBe(303);
      const second = createBrowser(h);
      const entry2 = await second.get('/device');
      const refused = await second.post('/device', { csrf: csrfOf(entry2.body), user_code: shared.body.user_code });
      expect(refused.status).toBe(400);
      expect(refused.body).toMatch(/another browser/);

      const late = await startDevice();
      h.clock.advance(601_000);
      expect((await poll(late.body.device_code)).body.error).toBe('expired_token');
    });

    it('refuses an unknown client, a client without the device grant, and a bad code', async () => {
      expect((await startDevice({ client_id: 'nobody' })).body.error).toBe('invalid_client');
      expect((await startDevice({})).body.error).toBe('invalid_request');
      const registered = await h.call('POST', '/v1/oauth-clients', { name: 'Browser app', redirect_uris: ['https://app.example/cb'], grant_types: ['authorization_code'] });
      expect(registered.status, registered.text).toBe(201);
      expect((await startDevice({ client_id: registered.body.client_id })).body.error).toBe('unauthorized_client');
      expect((await poll('not-a-device-code')).body.error).toBe('invalid_grant');
      const b = createBrowser(h);
      const entry = await b.get('/device');
      const wrong = await b.post('/device', { csrf: csrfOf(entry.body), user_code: 'BCDF-GHJK' });
      expect(wrong.status).toBe(400);
      expect((await b.post('/device', { csrf: 'forged', user_code: 'BCDF-GHJK' })).body).toMatch(/stale or was not ours/);
    });
  });
}
