// The sign-in, consent and device pages: server-rendered HTML, no script at all, one stylesheet from this origin.
// Rules:
// - Every value from a request, a client's metadata or an IdP is escaped (escapeHtml) — a client's name is
//   attacker-chosen text.
// - Content-Security-Policy: default-src 'none'; styles and images from this origin only; forms may post only here
//   and, on the consent page, to the client's redirect (browsers apply form-action to the redirect after a post);
//   no framing (frame-ancestors 'none', against clickjacking the consent button).
// - Referrer policy same-origin, not no-referrer: under no-referrer browsers post `Origin: null`, which the CSRF
//   origin check refuses; same-origin still sends no Referer to the IdP or the client.
// - Keyboard usable: real <form>/<button>/<a> elements in reading order, labelled inputs, visible focus (style.css),
//   the primary action first.

export interface Page {
  html: string;
  csp: string;
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** CSP for our pages; `formTargets` are origins (or `scheme:`) a form post may end up at after our redirect. */
export function pageCsp(formTargets: string[] = []): string {
  const targets = formTargets.map((t) => t.replace(/[;\s,]/g, '')).filter(Boolean);
  return [
    "default-src 'none'", "style-src 'self'", "img-src 'self'", `form-action 'self'${targets.length ? ' ' + targets.join(' ') : ''}`,
    "frame-ancestors 'none'", "base-uri 'none'",
  ].join('; ');
}

function layout(title: string, body: string, formTargets: string[] = []): Page {
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>${escapeHtml(title)} · Custos</title>
<link rel="stylesheet" href="/signin/style.css">
</head>
<body>
<main>
<p class="brand">Custos</p>
<h1>${escapeHtml(title)}</h1>
${body}
</main>
</body>
</html>
`;
  return { html, csp: pageCsp(formTargets) };
}

const hidden = (name: string, value: string) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`;

export interface SignInPageInput {
  requestId: string;
  clientName: string;
  csrf: string;
  identityProviders: Array<{ name: string; displayName: string | null }>;
  operatorTokenSignin: boolean;
  error?: string;
  userCode?: string | null;
  /** Set for clients nobody here vetted: where the name came from. */
  unvetted?: string | null;
}

export function signInPage(input: SignInPageInput): Page {
  const base = `/signin/${encodeURIComponent(input.requestId)}`;
  const idps = input.identityProviders.map((p) => `<li><a class="button primary" href="${base}/idp/${encodeURIComponent(p.name)}">Sign in with ${escapeHtml(p.displayName ?? p.name)}</a></li>`).join('\n');
  const token = input.operatorTokenSignin ? `
<form method="post" action="${base}/token" class="token">
${hidden('csrf', input.csrf)}
<label for="operator-token">Operator token</label>
<input id="operator-token" name="token" type="password" autocomplete="off" spellcheck="false" required${input.identityProviders.length === 0 ? ' autofocus' : ''}>
<p class="hint">${input.identityProviders.length === 0 ? 'No identity provider is configured. ' : ''}Paste an operator token (for example the bootstrap admin's, from <code>.custos/bootstrap-admin.token</code>). It is checked and never stored.</p>
<button type="submit" class="${input.identityProviders.length === 0 ? 'primary' : ''}">Sign in with the token</button>
</form>` : '';
  const none = input.identityProviders.length === 0 && !input.operatorTokenSignin ? '<p class="error" role="alert">No way to sign in is configured. An administrator adds an identity provider with <code>custos idp add</code>.</p>' : '';
  const body = `
<p><strong>${escapeHtml(input.clientName)}</strong> asks you to sign in.</p>
${input.unvetted ? `<p class="hint">This client is not registered with Custos: ${escapeHtml(input.unvetted)}. Its name is its own claim.</p>` : ''}
${input.userCode ? `<p>Code on your device: <strong class="code">${escapeHtml(input.userCode)}</strong></p>` : ''}
${input.error ? `<p class="error" role="alert">${escapeHtml(input.error)}</p>` : ''}
${idps ? `<ul class="idps">\n${idps}\n</ul>` : ''}
${token}
${none}
`;
  return layout('Sign in', body);
}

/** How the consent page names the management API among the resources. */
export const MANAGEMENT_API = 'Custos management API';

export interface ConsentPageInput {
  requestId: string;
  csrf: string;
  client: { name: string; clientId: string; source: string; clientUri?: string | null };
  person: { name: string; via: string; role: string | null };
  scope: string[];
  resources: Array<{ name: string; audience: string }>;
  purpose: string | null;
  userCode?: string | null;
  /** A device request: where and when it was started (the person checks it is theirs). */
  device?: { requester: string; startedAt: string } | null;
  /** Where the approval redirects (the client's redirect origin or scheme), for form-action. */
  formTargets: string[];
}

export function consentPage(input: ConsentPageInput): Page {
  const base = `/signin/${encodeURIComponent(input.requestId)}`;
  const identified = {
    metadata_document: `is identified by its metadata document at <code>${escapeHtml(input.client.clientId)}</code> (not registered here; its name is its own claim)`,
    dynamic: 'registered itself dynamically (not reviewed by an administrator; its name is its own claim)',
    registered: 'is registered with Custos by an administrator',
    builtin: 'is Custos\'s own command-line client',
  }[input.client.source as 'metadata_document' | 'dynamic' | 'registered' | 'builtin'] ?? 'is known to Custos';
  const managementOnly = input.resources.length === 1 && input.resources[0]!.name === MANAGEMENT_API;
  const noScopes = input.person.role && managementOnly
    ? `<li>no extra scopes — it acts with your role (${escapeHtml(input.person.role)}) on the Custos management API</li>`
    : '<li>no scopes</li>';
  const scopes = input.scope.length ? input.scope.map((s) => `<li><code>${escapeHtml(s)}</code></li>`).join('') : noScopes;
  const resources = input.resources.map((r) => `<li>${escapeHtml(r.name)} <code>${escapeHtml(r.audience)}</code></li>`).join('');
  const body = `
<p><strong>${escapeHtml(input.client.name)}</strong> wants to act for you, <strong>${escapeHtml(input.person.name)}</strong> (signed in ${escapeHtml(input.person.via)}${input.person.role ? `, role ${escapeHtml(input.person.role)}` : ''}).</p>
<p class="hint">The client ${identified}.</p>
${input.userCode ? `<p>Check that your device shows <strong class="code">${escapeHtml(input.userCode)}</strong>.</p>` : ''}
${input.device ? `<p class="error" role="note">Allow only if you started signing in on a device in front of you just now. Whoever started this request gets your access: it came from ${escapeHtml(input.device.requester)} at ${escapeHtml(input.device.startedAt)}. If someone sent you this code, choose Deny.</p>` : ''}
<h2>It asks for</h2>
<ul class="scopes">${scopes}</ul>
<h2>At</h2>
<ul class="resources">${resources}</ul>
${input.purpose ? `<p>For the purpose <code>${escapeHtml(input.purpose)}</code>.</p>` : ''}
<form method="post" action="${base}/consent" class="decision">
${hidden('csrf', input.csrf)}
<button type="submit" name="decision" value="approve" class="primary" autofocus>Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>
`;
  return layout(`Allow ${input.client.name}?`, body, input.formTargets);
}

export function messagePage(title: string, message: string, status: 'error' | 'info' = 'info'): Page {
  return layout(title, `<p class="${status === 'error' ? 'error' : 'info'}" role="${status === 'error' ? 'alert' : 'status'}">${escapeHtml(message)}</p>`);
}

export function devicePage(input: { csrf: string; userCode?: string; error?: string }): Page {
  const body = `
<p>Enter the code your device shows.</p>
${input.error ? `<p class="error" role="alert">${escapeHtml(input.error)}</p>` : ''}
<form method="post" action="/device">
${hidden('csrf', input.csrf)}
<label for="user-code">Code</label>
<input id="user-code" name="user_code" autocomplete="off" autocapitalize="characters" spellcheck="false" required autofocus value="${escapeHtml(input.userCode ?? '')}">
<button type="submit" class="primary">Continue</button>
</form>
`;
  return layout('Sign in a device', body);
}

export const STYLESHEET = `
:root { color-scheme: light dark; --accent: #1f5fbf; --error: #b3261e; }
* { box-sizing: border-box; }
body { font: 16px/1.5 system-ui, sans-serif; margin: 0; display: flex; justify-content: center; }
main { max-width: 32rem; width: 100%; padding: 2rem 1.25rem; }
.brand { font-weight: 700; letter-spacing: .08em; text-transform: uppercase; font-size: .8rem; opacity: .7; }
h1 { font-size: 1.5rem; margin: .25rem 0 1rem; }
h2 { font-size: 1rem; margin: 1.25rem 0 .25rem; }
ul { padding-left: 1.25rem; }
ul.idps { list-style: none; padding: 0; }
ul.idps li { margin: .5rem 0; }
label { display: block; font-weight: 600; margin-top: 1rem; }
input { font: inherit; width: 100%; padding: .5rem; margin: .25rem 0; border: 1px solid #888; border-radius: .25rem; }
.button, button { font: inherit; display: inline-block; padding: .55rem 1rem; margin: .5rem .5rem 0 0; border: 1px solid var(--accent);
  border-radius: .25rem; background: transparent; color: var(--accent); text-decoration: none; cursor: pointer; }
.primary { background: var(--accent); color: #fff; }
a:focus-visible, button:focus-visible, input:focus-visible { outline: 3px solid #f2b01e; outline-offset: 2px; }
.error { color: var(--error); font-weight: 600; }
.hint { font-size: .9rem; opacity: .8; }
.code { font-family: ui-monospace, monospace; letter-spacing: .1em; }
code { font-family: ui-monospace, monospace; font-size: .9em; word-break: break-all; }
`;
