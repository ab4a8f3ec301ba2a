import { describe, expect, it } from 'vitest';
import { CredentialRejected } from '../contracts.js';
import { checkHtu, normaliseHtu, requestUrlFor } from './htu.js';

describe('normaliseHtu', () => {
  it('drops query and fragment, lower-cases scheme and host, removes default ports', () => {
    expect(normaliseHtu('HTTPS://Host:443/path?q')).toBe('https://host/path');
    expect(normaliseHtu('https://host/path')).toBe('https://host/path');
    expect(normaliseHtu('https://host/path#frag')).toBe('https://host/path');
    expect(normaliseHtu('http://HOST.Example:80/a')).toBe('http://host.example/a');
    expect(normaliseHtu('https://host:8443/a')).toBe('https://host:8443/a');
    expect(normaliseHtu('http://host:443/a')).toBe('http://host:443/a'); // 443 is not http's default
    expect(normaliseHtu('https://host')).toBe('https://host/');
    expect(normaliseHtu('https://host?x=1')).toBe('https://host/');
  });

  it('keeps the path case, removes dot segments and normalises percent-encodings (RFC 3986 §6.2.2)', () => {
    expect(normaliseHtu('https://host/Path')).toBe('https://host/Path');
    expect(normaliseHtu('https://host/a/./b/../c')).toBe('https://host/a/c');
    expect(normaliseHtu('https://host/a/%2e%2E/c')).toBe('https://host/c');
    expect(normaliseHtu('https://host/%7Euser/%41%62%2D%5f%2e')).toBe('https://host/~user/Ab-_.');
    expect(normaliseHtu('https://host/a%2fb%3a')).toBe('https://host/a%2Fb%3A');
    expect(normaliseHtu('https://host/a b')).toBe('https://host/a%20b');
    expect(normaliseHtu('https://BÜCHER.example/')).toBe('https://xn--bcher-kva.example/');
    expect(normaliseHtu('https://[0:0:0:0:0:0:0:1]:443/')).toBe('https://[::1]/');
  });

  it('throws for relative, non-http(s) and userinfo URLs', () => {
    expect(() => normaliseHtu('/oauth/token')).toThrow(TypeError);
    expect(() => normaliseHtu('ftp://host/a')).toThrow('not an http(s) URL');
    expect(() => normaliseHtu('urn:x:y')).toThrow('not an http(s) URL');
    expect(() => normaliseHtu('https://user:pw@host/a')).toThrow('URL carries userinfo');
    expect(() => normaliseHtu('https://user@host/a')).toThrow('URL carries userinfo');
  });
});

describe('requestUrlFor', () => {
  it('joins the public base URL and the request path, without the query', () => {
    expect(requestUrlFor('https://custos.example.com', '/oauth/token?x=1')).toBe('https://custos.example.com/oauth/token');
    expect(requestUrlFor('https://custos.example.com/', '/oauth/token')).toBe('https://custos.example.com/oauth/token');
    expect(requestUrlFor('https://example.com/custos', '/v1/principals#x')).toBe('https://example.com/custos/v1/principals');
    expect(requestUrlFor('http://127.0.0.1:8080', '/')).toBe('http://127.0.0.1:8080/');
  });

  it('takes only the path of an absolute-form target: the authority is the configured one', () => {
    expect(requestUrlFor('https://custos.example.com', 'http://attacker.example/oauth/token?x')).toBe('https://custos.example.com/oauth/token');
    expect(requestUrlFor('https://custos.example.com', '//attacker.example/oauth/token')).toBe('https://custos.example.com//attacker.example/oauth/token');
    expect(normaliseHtu(requestUrlFor('https://custos.example.com', '//attacker.example/oauth/token'))).toBe('https://custos.example.com//attacker.example/oauth/token');
  });
});

describe('checkHtu', () => {
  const refused = (htu: unknown, url: string) => {
    try {
      checkHtu(htu, url);
    } catch (error) {
      expect(error).toBeInstanceOf(CredentialRejected);
      expect((error as CredentialRejected).reason).toBe('dpop_invalid');
      return (error as Error).message;
    }
    throw new Error('accepted');
  };

  it('accepts an equivalent spelling of the request URL', () => {
    expect(() => checkHtu('HTTPS://Custos.Example.com:443/oauth/token?x#y', 'https://custos.example.com/oauth/token')).not.toThrow();
  });

  it('refuses another path, host, scheme or port, and a missing or unparsable htu', () => {
    const url = 'https://custos.example.com/oauth/token';
    const mismatch = 'DPoP proof htu does not match the request URL';
    expect(refused('https://custos.example.com/oauth/revoke', url)).toBe(mismatch);
    expect(refused('https://custos.example.com/oauth/token/', url)).toBe(mismatch);
    expect(refused('https://custos.example.com/OAUTH/token', url)).toBe(mismatch);
    expect(refused('https://other.example.com/oauth/token', url)).toBe(mismatch);
    expect(refused('http://custos.example.com/oauth/token', url)).toBe(mismatch);
    expect(refused('https://custos.example.com:8443/oauth/token', url)).toBe(mismatch);
    expect(refused(undefined, url)).toBe('DPoP proof htu is missing');
    expect(refused(['https://custos.example.com/oauth/token'], url)).toBe('DPoP proof htu is missing');
    expect(refused('/oauth/token', url)).toBe('DPoP proof htu is not an http(s) URL');
    expect(refused('https://me@custos.example.com/oauth/token', url)).toBe('DPoP proof htu is not an http(s) URL');
  });
});
