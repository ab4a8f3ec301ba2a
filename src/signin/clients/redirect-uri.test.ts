import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_REDIRECT_URI_LENGTH, isLoopbackIpRedirect, redirectUriMatches, validateRedirectUri } from './redirect-uri.js';

describe('redirectUriMatches: exact string comparison (RFC 9700 §4.1.3)', () => {
  const registered = ['https://app.example.com/callback', 'https://app.example.com:8443/cb?tenant=a'];

  it('accepts a registered URI exactly as registered', () => {
    expect(redirectUriMatches(registered, 'https://app.example.com/callback')).toBe(true);
    expect(redirectUriMatches(registered, 'https://app.example.com:8443/cb?tenant=a')).toBe(true);
  });

  it('refuses a URI one character off, anywhere', () => {
    const uri = 'https://app.example.com/callback';
    for (let i = 0; i < uri.length; i++) {
      const flipped = uri.slice(0, i) + (uri[i] === 'x' ? 'y' : 'x') + uri.slice(i + 1);
      expect(redirectUriMatches(registered, flipped), flipped).toBe(false);
    }
    expect(redirectUriMatches(registered, `${uri}x`)).toBe(false);
    expect(redirectUriMatches(registered, uri.slice(0, -1))).toBe(false);
  });

  it('refuses prefixes and extensions of a registered URI (no prefix matching)', () => {
    expect(redirectUriMatches(registered, 'https://app.example.com/callback/evil')).toBe(false);
    expect(redirectUriMatches(registered, 'https://app.example.com/callback?next=https://evil.example')).toBe(false);
    expect(redirectUriMatches(registered, 'https://app.example.com/callback#frag')).toBe(false);
    expect(redirectUriMatches(registered, 'https://app.example.com.evil.example/callback')).toBe(false);
    expect(redirectUriMatches(registered, 'https://app.example.com')).toBe(false);
  });

  it('refuses a different port for a non-loopback URI, and an explicit default port', () => {
    expect(redirectUriMatches(registered, 'https://app.example.com:8444/cb?tenant=a')).toBe(false);
    expect(redirectUriMatches(registered, 'https://app.example.com/cb?tenant=a')).toBe(false);
    expect(redirectUriMatches(registered, 'https://app.example.com:443/callback')).toBe(false);
  });

  it('refuses a query difference, a path case difference and a trailing slash difference', () => {
    expect(redirectUriMatches(registered, 'https://app.example.com:8443/cb?tenant=b')).toBe(false);
    expect(redirectUriMatches(registered, 'https://app.example.com:8443/cb?tenant=a&x=1')).toBe(false);
    expect(redirectUriMatches(registered, 'https://app.example.com:8443/cb')).toBe(false);
    expect(redirectUriMatches(registered, 'https://app.example.com/Callback')).toBe(false);
    expect(redirectUriMatches(registered, 'https://app.example.com/callback/')).toBe(false);
    expect(redirectUriMatches(['https://app.example.com/callback/'], 'https://app.example.com/callback')).toBe(false);
  });

  it('does not normalise: host case, percent-encoding and dot segments are compared as written', () => {
    expect(redirectUriMatches(registered, 'https://APP.example.com/callback')).toBe(false);
    expect(redirectUriMatches(registered, 'https://app.example.com/%63allback')).toBe(false);
    expect(redirectUriMatches(registered, 'https://app.example.com/x/../callback')).toBe(false);
    expect(redirectUriMatches(registered, 'HTTPS://app.example.com/callback')).toBe(false);
  });

  it('for a non-loopback registration, matches exactly the identical string and nothing else (property)', () => {
    const r = 'https://app.example.com/callback';
    fc.assert(fc.property(fc.string({ maxLength: 60 }), fc.string({ maxLength: 60 }), (a, b) => {
      const presented = `${a}${r}${b}`;
      expect(redirectUriMatches([r], presented)).toBe(presented === r);
    }));
  });

  it('refuses everything against an empty registration, and non-strings or empty strings', () => {
    expect(redirectUriMatches([], 'https://app.example.com/callback')).toBe(false);
    expect(redirectUriMatches(registered, '')).toBe(false);
    expect(redirectUriMatches(registered, undefined as unknown as string)).toBe(false);
  });

  it('compares private-use scheme URIs exactly', () => {
    expect(redirectUriMatches(['com.example.app:/oauth2redirect'], 'com.example.app:/oauth2redirect')).toBe(true);
    expect(redirectUriMatches(['com.example.app:/oauth2redirect'], 'com.example.app:/oauth2redirect/')).toBe(false);
    expect(redirectUriMatches(['com.example.app:/oauth2redirect'], 'com.example.evil:/oauth2redirect')).toBe(false);
  });
});

describe('redirectUriMatches: loopback IP literals match with any port (RFC 8252 §7.3)', () => {
  const cli = ['http://127.0.0.1/callback', 'http://[::1]/callback'];

  it('accepts any port, or none, for 127.0.0.1 and [::1]', () => {
    for (const port of ['', ':1', ':8080', ':49152', ':65535']) {
      expect(redirectUriMatches(cli, `http://127.0.0.1${port}/callback`), port).toBe(true);
      expect(redirectUriMatches(cli, `http://[::1]${port}/callback`), port).toBe(true);
    }
  });

  it('ignores a port in the registration the same way', () => {
    expect(redirectUriMatches(['http://127.0.0.1:3000/cb'], 'http://127.0.0.1:51234/cb')).toBe(true);
    expect(redirectUriMatches(['http://127.0.0.1:3000/cb'], 'http://127.0.0.1/cb')).toBe(true);
  });

  it('lets only the port differ: path, query and host must be exactly the registered ones', () => {
    expect(redirectUriMatches(cli, 'http://127.0.0.1:8080/callback/')).toBe(false);
    expect(redirectUriMatches(cli, 'http://127.0.0.1:8080/Callback')).toBe(false);
    expect(redirectUriMatches(cli, 'http://127.0.0.1:8080/callback?x=1')).toBe(false);
    expect(redirectUriMatches(cli, 'http://127.0.0.1:8080/callback#x')).toBe(false);
    expect(redirectUriMatches(cli, 'http://127.0.0.1:8080')).toBe(false);
    expect(redirectUriMatches(['http://127.0.0.1/cb?a=1'], 'http://127.0.0.1:9/cb?a=1')).toBe(true);
    expect(redirectUriMatches(['http://127.0.0.1/cb?a=1'], 'http://127.0.0.1:9/cb?a=2')).toBe(false);
    expect(redirectUriMatches(['http://127.0.0.1/callback'], 'http://[::1]:8080/callback')).toBe(false);
    expect(redirectUriMatches(['http://[::1]/callback'], 'http://127.0.0.1:8080/callback')).toBe(false);
  });

  it('refuses ports that are not 1-65535 as written, and tricks around the host', () => {
    for (const bad of [':0', ':65536', ':080', ':', ':99999', ':8080@evil.example', '.evil.example:80', ':80:81']) {
      expect(redirectUriMatches(cli, `http://127.0.0.1${bad}/callback`), bad).toBe(false);
    }
    expect(redirectUriMatches(cli, 'https://127.0.0.1:8080/callback')).toBe(false);
    expect(redirectUriMatches(cli, 'http://127.1:8080/callback')).toBe(false);
    expect(redirectUriMatches(cli, 'http://[0:0:0:0:0:0:0:1]:8080/callback')).toBe(false);
  });

  it('gives localhost no any-port allowance: matched exactly, port included (RFC 8252 §8.3)', () => {
    expect(redirectUriMatches(['http://localhost/callback'], 'http://localhost/callback')).toBe(true);
    expect(redirectUriMatches(['http://localhost/callback'], 'http://localhost:8080/callback')).toBe(false);
    expect(redirectUriMatches(['http://localhost:8080/callback'], 'http://localhost:8080/callback')).toBe(true);
    expect(redirectUriMatches(['http://localhost:8080/callback'], 'http://localhost:8081/callback')).toBe(false);
    expect(redirectUriMatches(cli, 'http://localhost:8080/callback')).toBe(false);
    expect(isLoopbackIpRedirect('http://localhost/callback')).toBe(false);
    expect(isLoopbackIpRedirect('http://[::1]/callback')).toBe(true);
  });
});

describe('validateRedirectUri', () => {
  it('accepts https, loopback http (IP literals and localhost) and reverse-domain private-use schemes', () => {
    for (const ok of [
      'https://app.example.com/callback', 'https://app.example.com:8443/cb?tenant=a&x=%20', 'https://192.0.2.1/cb', 'https://[2001:db8::1]/cb',
      'http://127.0.0.1/callback', 'http://127.0.0.1:8080/callback', 'http://[::1]/callback', 'http://[::1]:1/cb', 'http://localhost:3000/cb',
      'com.example.app:/oauth2redirect/example-provider', 'com.example.app://callback', 'dev.custos.cli:/cb',
    ]) {
      expect(validateRedirectUri(ok), ok).toBeNull();
    }
  });

  it('refuses a fragment', () => {
    expect(validateRedirectUri('https://app.example.com/cb#x')).toMatch(/fragment/);
    expect(validateRedirectUri('https://app.example.com/cb#')).toMatch(/fragment/);
  });

  it('refuses plain http to anything but the loopback hosts written exactly', () => {
    for (const bad of ['http://app.example.com/cb', 'http://127.1/cb', 'http://0x7f.0.0.1/cb', 'http://127.0.0.2/cb', 'http://LOCALHOST/cb',
      'http://127.0.0.1.evil.example/cb', 'http://localhost.evil.example/cb', 'http://[::2]/cb', 'http:/127.0.0.1/cb']) {
      expect(validateRedirectUri(bad), bad).toMatch(/https/);
    }
  });

  it('refuses schemes that are not https, loopback http or reverse-domain private-use', () => {
    for (const bad of ['javascript:alert(1)', 'data:text/html,x', 'file:///etc/passwd', 'myapp:/cb', 'ftp://example.com/cb']) {
      expect(validateRedirectUri(bad), bad).toMatch(/RFC 8252 §7\.1/);
    }
  });

  it('refuses relative URIs, an uppercase scheme and nothing after the scheme', () => {
    expect(validateRedirectUri('/callback')).toMatch(/absolute/);
    expect(validateRedirectUri('app.example.com/callback')).toMatch(/absolute/);
    expect(validateRedirectUri('//app.example.com/callback')).toMatch(/absolute/);
    expect(validateRedirectUri('HTTPS://app.example.com/cb')).toMatch(/lowercase/);
    expect(validateRedirectUri('com.example.app:')).toMatch(/nothing after/);
  });

  it('refuses user information, which makes a URI read as one host and go to another', () => {
    expect(validateRedirectUri('https://app.example.com@evil.example/cb')).toMatch(/user information/);
    expect(validateRedirectUri('https://user:pass@app.example.com/cb')).toMatch(/user information/);
    expect(validateRedirectUri('http://127.0.0.1@evil.example/cb')).toMatch(/user information/);
    expect(validateRedirectUri('com.example.app://u@host/cb')).toMatch(/user information/);
  });

  it('refuses a missing host and bad ports', () => {
    expect(validateRedirectUri('https:///cb')).toMatch(/no host/);
    expect(validateRedirectUri('https://app.example.com:0/cb')).toMatch(/port/);
    expect(validateRedirectUri('https://app.example.com:65536/cb')).toMatch(/port/);
    expect(validateRedirectUri('https://app.example.com:0443/cb')).toMatch(/port/);
    expect(validateRedirectUri('https://app.example.com:/cb')).toMatch(/port/);
    expect(validateRedirectUri('https://[zz]/cb')).toMatch(/not a valid URI/);
  });

  it('refuses characters a URI may not hold and broken percent-encoding', () => {
    for (const bad of ['https://app.example.com/a b', 'https://app.example.com/a\tb', 'https://app.example.com\\@evil.example/', 'https://app.example.com/"x"',
      'https://app.example.com/é', 'https://app.example.com/<x>', ' https://app.example.com/cb', 'https://app.example.com/cb\n']) {
      expect(validateRedirectUri(bad), JSON.stringify(bad)).toMatch(/characters/);
    }
    expect(validateRedirectUri('https://app.example.com/%zz')).toMatch(/hexadecimal/);
    expect(validateRedirectUri('https://app.example.com/%4')).toMatch(/hexadecimal/);
  });

  it('bounds the length at 2000 characters', () => {
    const base = 'https://app.example.com/';
    expect(validateRedirectUri(base + 'a'.repeat(MAX_REDIRECT_URI_LENGTH - base.length))).toBeNull();
    expect(validateRedirectUri(base + 'a'.repeat(MAX_REDIRECT_URI_LENGTH - base.length + 1))).toMatch(/longer than 2000/);
    expect(validateRedirectUri('')).toMatch(/empty/);
  });

  it('accepts every URI the matcher will then match exactly, and the built-in client\'s loopback URIs', () => {
    for (const uri of ['http://127.0.0.1/callback', 'http://[::1]/callback']) {
      expect(validateRedirectUri(uri)).toBeNull();
      expect(isLoopbackIpRedirect(uri)).toBe(true);
    }
  });
});
