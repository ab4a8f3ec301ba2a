import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext, Page, Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { escapeHtml } from '../../src/signin/pages/render.js';
import { computedStyle, launchChromium, newContext, screenshot, waitForFocus, watchCspReports } from '../support/browser.js';
import { startHarness, type Harness } from '../support/harness.js';
import { startTestIdp, type TestIdp } from '../support/idp.js';
import { authorizeUrl, pkcePair } from '../support/signin.js';

// The sign-in and consent pages in real Chromium (the same flow as federated-signin.test.ts, which drives it over
// HTTP without a browser): a control plane listening on a real port, the organisation's IdP (a real oidc-provider)
// and an application's loopback redirect (a tiny HTTP server). The person clicks "Sign in with Corp SSO", signs
// in at the IdP's form, and approves the consent page with the keyboard only; the application gets code, state
// and iss, and the code buys tokens of an admin. The pages' CSP (default-src 'none', form-action for the redirect
// after the consent post, frame-ancestors 'none') is seen by the browser and breaks nothing: no CSP report on the
// console, the stylesheet applied. A page on another origin that frames the consent page gets nothing rendered
// (and that refusal is reported on the console — the same watcher that found no report in the flow finds it).
// One backend (SQLite): the HTTP-level tests cover PostgreSQL.
//
// CUSTOS_SCREENSHOTS=docs/images npx vitest run test/signin/browser.test.ts regenerates the docs images.

const ACCENT = 'rgb(31, 95, 191)'; // --accent in the pages' stylesheet (pages/render.ts)
const WAIT = { timeout: 20_000 };

interface FakeClient {
  origin: string;
  redirectUri: string;
  /** The query of every request to /callback, in order. */
  received: URLSearchParams[];
  close(): Promise<void>;
}

/** The application's loopback redirect (/callback answers "done") and, at /frame?src=…, a page that frames src. */
async function startFakeClient(): Promise<FakeClient> {
  const received: URLSearchParams[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/callback') {
      received.push(url.searchParams);
      return void res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end('done');
    }
    if (url.pathname === '/frame') {
      const src = escapeHtml(url.searchParams.get('src') ?? '');
      return void res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        .end(`<!doctype html><html lang="en"><head><title>framing</title></head><body><h1>Looks harmless</h1><iframe src="${src}" width="600" height="400"></iframe></body></html>`);
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin, redirectUri: `${origin}/callback`, received,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('sign-in and consent in Chromium (sqlite)', () => {
  let browser: Browser | undefined;
  let h: Harness | undefined;
  let idp: TestIdp | undefined;
  let client: FakeClient | undefined;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    browser = await launchChromium();
    h = await startHarness('sqlite');
    await h.cp.listen();
    // The IdP signs its ID tokens with real time.
    h.clock.set(new Date());
    // Started after listen: its client's redirect URI names the issuer, known only once the port is bound.
    idp = await startTestIdp({
      users: [{ sub: 'u-alice', email: 'alice@corp.example', name: 'Alice Liddell', groups: ['custos-admins'], password: 'alice-pw' }],
      clients: [{ client_id: 'custos', client_secret: 'idp-secret', redirect_uris: [`${h.cp.issuer()}/oauth/callback`] }],
    });
    const created = await h.call('POST', '/v1/identity-providers', {
      name: 'corp', display_name: 'Corp SSO', issuer: idp.issuer, client_id: 'custos', client_secret: 'idp-secret', groups_claim: 'groups',
      group_roles: { 'custos-admins': 'admin' }, new_principal_status: 'active',
    });
    expect(created.status, created.text).toBe(201);
    client = await startFakeClient();
  });

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await client?.close();
    await idp?.close();
    await h?.close();
  });

  async function freshPage(): Promise<{ page: Page; cspReports: string[]; documents: Response[] }> {
    const context = await newContext(browser!);
    contexts.push(context);
    const cspReports = watchCspReports(context);
    const page = await context.newPage();
    const documents: Response[] = [];
    page.on('response', (r) => { if (r.request().resourceType() === 'document') documents.push(r); });
    return { page, cspReports, documents };
  }

  /** Authorize → the sign-in page → the IdP's login → the consent page; `shots` takes the screenshots on the way. */
  async function toConsent(page: Page, shots: boolean) {
    const issuer = h!.cp.issuer();
    const pkce = pkcePair();
    const state = crypto.randomBytes(16).toString('base64url');
    await page.goto(`${issuer}${authorizeUrl({ challenge: pkce.challenge, redirectUri: client!.redirectUri, state })}`, WAIT);
    await page.waitForURL(new RegExp(`^${issuer}/signin/[0-9a-f-]{36}$`), WAIT);
    const requestUrl = page.url();

    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Sign in');
    const corp = page.getByRole('link', { name: 'Sign in with Corp SSO' });
    expect(await corp.isVisible()).toBe(true);
    // Only the IdP is offered (no operator-token form when one is configured).
    expect(await page.getByLabel('Operator token').count()).toBe(0);
    // The stylesheet was allowed by the CSP and applied.
    expect(await computedStyle(corp, 'background-color')).toBe(ACCENT);
    if (shots) await screenshot(page, 'signin-page.png');

    await corp.click();
    await page.waitForURL((url) => url.origin === idp!.issuer && url.pathname.startsWith('/interaction/'), WAIT);
    await page.getByLabel('Login').fill('u-alice');
    await page.getByLabel('Password').fill('alice-pw');
    if (shots) await screenshot(page, 'idp-login.png');
    await page.getByRole('button', { name: 'Sign in' }).click();

    await page.waitForURL(`${requestUrl}/consent`, WAIT);
    return { issuer, pkce, state, consentUrl: page.url() };
  }

  it('a person signs in through the IdP and allows the CLI with the keyboard; the CSP breaks nothing', async () => {
    const { page, cspReports, documents } = await freshPage();
    const { issuer, pkce, state, consentUrl } = await toConsent(page, true);

    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Allow Custos CLI?');
    const main = await page.getByRole('main').innerText();
    expect(main).toContain('Custos CLI wants to act for you, alice (signed in through corp, role admin)');
    expect(main).toContain('Custos\'s own command-line client');
    expect(await page.getByRole('heading', { name: 'It asks for' }).isVisible()).toBe(true);
    expect(await page.getByRole('list').nth(0).innerText()).toBe('no extra scopes — it acts with your role (admin) on the Custos management API');
    expect(await page.getByRole('heading', { name: 'At' }).isVisible()).toBe(true);
    expect(await page.getByRole('list').nth(1).innerText()).toBe(`Custos management API ${issuer}`);
    const allow = page.getByRole('button', { name: 'Allow' });
    const deny = page.getByRole('button', { name: 'Deny' });
    expect(await allow.isVisible()).toBe(true);
    expect(await deny.isVisible()).toBe(true);
    expect(await computedStyle(allow, 'background-color')).toBe(ACCENT);
    expect(await computedStyle(deny, 'background-color')).toBe('rgba(0, 0, 0, 0)');

    // Keyboard only: Allow has the focus when the page opens (autofocus); Enter submits it.
    await waitForFocus(allow);
    await screenshot(page, 'consent-page.png');
    const posted = page.waitForResponse((r) => r.request().method() === 'POST' && r.url() === consentUrl, WAIT);
    await page.keyboard.press('Enter');
    const decision = await posted;
    if (decision.status() !== 303) {
      const shown = (await decision.text().catch(() => '')).replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
      expect.fail(`the consent post was answered HTTP ${decision.status()} (Origin: ${await decision.request().headerValue('origin')}): ${shown}`);
    }
    await page.waitForURL((url) => url.origin === client!.origin && url.pathname === '/callback', WAIT);
    expect(await page.locator('body').innerText()).toBe('done');

    expect(client!.received).toHaveLength(1);
    const answer = client!.received[0]!;
    expect(answer.get('state')).toBe(state);
    expect(answer.get('iss')).toBe(issuer);
    expect(answer.get('error')).toBeNull();
    const code = answer.get('code');
    expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const token = await fetch(`${issuer}/oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', code: code!, redirect_uri: client!.redirectUri, client_id: 'custos-cli', code_verifier: pkce.verifier }),
    });
    const tokens = await token.json() as Record<string, string>;
    expect(token.status, JSON.stringify(tokens)).toBe(200);
    const me = await fetch(`${issuer}/v1/whoami`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ principal_name: 'alice', role: 'admin' });

    // Every Custos page the browser showed carried the CSP; the consent page's form-action allows the redirect.
    const pages = documents.filter((r) => new URL(r.url()).origin === issuer && r.status() === 200);
    expect(pages.map((r) => new URL(r.url()).pathname.replace(/[0-9a-f-]{36}/, ':id'))).toEqual(['/signin/:id', '/signin/:id/consent']);
    for (const r of pages) {
      const csp = (await r.allHeaders())['content-security-policy'] ?? '';
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("frame-ancestors 'none'");
    }
    expect((await pages[1]!.allHeaders())['content-security-policy']).toContain(`form-action 'self' ${client!.origin}`);
    // …and the browser reported no violation anywhere on the way.
    expect(cspReports).toEqual([]);
  }, 90_000);

  it('the consent page is not rendered inside another site\'s frame', async () => {
    const { page, cspReports } = await freshPage();
    const callbacksBefore = client!.received.length;
    const { consentUrl } = await toConsent(page, false);
    // At the top level the consent page renders.
    expect(await page.getByRole('button', { name: 'Allow' }).isVisible()).toBe(true);
    expect(cspReports).toEqual([]);

    const served = page.waitForResponse((r) => r.url() === consentUrl, WAIT);
    const refused = page.waitForEvent('console', { predicate: (m) => /frame-ancestors/.test(m.text()), ...WAIT });
    await page.goto(`${client!.origin}/frame?src=${encodeURIComponent(consentUrl)}`, { ...WAIT, waitUntil: 'load' });
    // Custos served the page (to this browser, whose binding cookie went along)…
    expect((await served).status()).toBe(200);
    // …and Chromium refused to show it in the frame, saying why.
    expect((await refused).text()).toContain("frame-ancestors 'none'");
    expect(await page.getByRole('heading', { name: 'Looks harmless' }).isVisible()).toBe(true);
    const framed = page.frameLocator('iframe');
    expect(await framed.getByRole('button', { name: 'Allow' }).count()).toBe(0);
    expect(await framed.getByRole('heading').count()).toBe(0);
    expect(cspReports.some((r) => r.includes("frame-ancestors 'none'"))).toBe(true);
    // Nothing reached the application from this sign-in.
    expect(client!.received).toHaveLength(callbacksBefore);
  }, 90_000);
});
