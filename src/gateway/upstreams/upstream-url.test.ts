import { describe, expect, it } from 'vitest';
import { isPrivateHost, MAX_BASE_URL_LENGTH, normaliseBaseUrl } from './upstream-url.js';

const ok = (value: string) => normaliseBaseUrl(value);

describe('normaliseBaseUrl', () => {
  it('accepts https anywhere and normalises (trailing slashes dropped, host lower-cased, default port dropped)', () => {
    expect(ok('https://api.openai.com/v1')).toEqual({ ok: true, url: 'https://api.openai.com/v1' });
    expect(ok('https://api.openai.com/v1/')).toEqual({ ok: true, url: 'https://api.openai.com/v1' });
    expect(ok('https://API.Anthropic.com:443')).toEqual({ ok: true, url: 'https://api.anthropic.com' });
    expect(ok('https://api.anthropic.com/')).toEqual({ ok: true, url: 'https://api.anthropic.com' });
    expect(ok('https://my-res.openai.azure.com/openai//')).toEqual({ ok: true, url: 'https://my-res.openai.azure.com/openai' });
    expect(ok('https://x.example.com:8443/a/../v1')).toEqual({ ok: true, url: 'https://x.example.com:8443/v1' });
    expect(ok('https://203.0.113.7/v1')).toEqual({ ok: true, url: 'https://203.0.113.7/v1' });
  });

  it('accepts plain http to loopback and private addresses only', () => {
    expect(ok('http://127.0.0.1:8000/v1')).toEqual({ ok: true, url: 'http://127.0.0.1:8000/v1' });
    expect(ok('http://localhost:11434/v1/')).toEqual({ ok: true, url: 'http://localhost:11434/v1' });
    expect(ok('http://LOCALHOST:11434')).toEqual({ ok: true, url: 'http://localhost:11434' });
    expect(ok('http://[::1]:8000')).toEqual({ ok: true, url: 'http://[::1]:8000' });
    expect(ok('http://10.1.2.3:8000/v1')).toEqual({ ok: true, url: 'http://10.1.2.3:8000/v1' });
    expect(ok('http://172.16.0.1')).toEqual({ ok: true, url: 'http://172.16.0.1' });
    expect(ok('http://172.31.255.254')).toEqual({ ok: true, url: 'http://172.31.255.254' });
    expect(ok('http://192.168.1.20:11434')).toEqual({ ok: true, url: 'http://192.168.1.20:11434' });
    expect(ok('http://[fd12:3456::1]:8000')).toEqual({ ok: true, url: 'http://[fd12:3456::1]:8000' });
    // Numeric forms are normalised by WHATWG parsing before the check.
    expect(ok('http://2130706433/')).toEqual({ ok: true, url: 'http://127.0.0.1' });
    expect(ok('http://0x0a.1:80/')).toEqual({ ok: true, url: 'http://10.0.0.1' });
    expect(ok('http://[::ffff:10.0.0.1]:8000')).toEqual({ ok: true, url: 'http://[::ffff:a00:1]:8000' });
  });

  it('refuses plain http to public, link-local, unspecified and named hosts', () => {
    for (const value of [
      'http://api.openai.com/v1', 'http://203.0.113.7', 'http://8.8.8.8', 'http://172.32.0.1', 'http://172.15.255.255', 'http://192.169.0.1',
      'http://169.254.169.254/latest', 'http://[fe80::1]', 'http://0.0.0.0:8000', 'http://100.64.0.1', 'http://[2001:db8::1]',
      'http://[::ffff:8.8.8.8]', 'http://ollama:11434', 'http://vllm.internal:8000', 'http://localhost.example.com', 'http://127.0.0.1.nip.io',
    ]) {
      const r = ok(value);
      expect(r.ok, value).toBe(false);
      if (!r.ok) expect(r.problem, value).toMatch(/^must use https/);
    }
  });

  it('refuses user information, queries, fragments, other schemes, whitespace and over-long URLs, never echoing them', () => {
    const cases: Array<[string, RegExp]> = [
      ['https://user:sk-secret-123@api.openai.com/v1', /user name or password/],
      ['https://sk-secret-123@api.openai.com', /user name or password/],
      ['https://:@api.openai.com', /user name or password/],
      ['http://key@127.0.0.1:8000', /user name or password/],
      ['https://x.openai.azure.com/openai?api-version=2024-10-21', /query/],
      ['https://api.openai.com/v1?', /query/],
      ['https://api.openai.com/v1#frag', /fragment/],
      ['https://api.openai.com/v1#', /fragment/],
      ['ftp://files.example.com', /must use https/],
      ['file:///etc/passwd', /must use https/],
      ['javascript:alert(1)', /must use https/],
      ['api.openai.com/v1', /not an absolute URL/],
      ['', /not an absolute URL/],
      [' https://api.openai.com', /spaces or control/],
      ['https://api.openai.com/v\n1', /spaces or control/],
      ['https://api.openai.com/v\t1', /spaces or control/],
      [`https://a.example.com/${'p'.repeat(MAX_BASE_URL_LENGTH)}`, /longer than/],
    ];
    for (const [value, problem] of cases) {
      const r = ok(value);
      expect(r.ok, value).toBe(false);
      if (!r.ok) {
        expect(r.problem, value).toMatch(problem);
        expect(r.problem).not.toContain('secret');
      }
    }
  });
});

describe('isPrivateHost', () => {
  it('names loopback, RFC 1918 and unique-local addresses as URL.hostname gives them', () => {
    for (const host of ['localhost', '127.0.0.1', '127.255.0.9', '10.0.0.0', '10.255.255.255', '172.16.0.0', '172.31.0.1', '192.168.0.1', '[::1]', '[fc00::1]', '[fdff::1]', '[::ffff:7f00:1]']) {
      expect(isPrivateHost(host), host).toBe(true);
    }
    for (const host of ['example.com', 'ollama', '8.8.8.8', '169.254.169.254', '0.0.0.0', '[fe80::1]', '[2001:db8::1]', '::1', '[::ffff:808:808]', 'sub.localhost', '[]']) {
      expect(isPrivateHost(host), host).toBe(false);
    }
  });
});
