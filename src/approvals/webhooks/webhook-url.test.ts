import { describe, expect, it } from 'vitest';
import { isLoopbackHost, MAX_WEBHOOK_URL_LENGTH, urlOrigin, webhookUrlProblem } from './webhook-url.js';

describe('webhook URL rule', () => {
  it('accepts https anywhere and http only to loopback hosts', () => {
    for (const ok of [
      'https://hooks.example.com/custos', 'https://hooks.slack.com/services/T0/B0/xyz', 'https://10.0.0.7:8443/h?x=1',
      'http://127.0.0.1:9000/hook', 'http://127.8.9.10/h', 'http://[::1]:8080/h', 'http://localhost/h', 'http://LOCALHOST:81/h',
      'http://2130706433/h', 'http://0x7f.1/h',
    ]) expect(webhookUrlProblem(ok), ok).toBeUndefined();
  });

  it('refuses plain http elsewhere, other schemes, credentials, fragments and non-URLs', () => {
    const cases: Array<[string, RegExp]> = [
      ['http://example.com/hook', /must use https \(plain http only to a loopback address/],
      ['http://128.0.0.1/h', /must use https/],
      ['http://10.0.0.1/h', /must use https/],
      ['http://foo.localhost/h', /must use https/],
      ['http://127.0.0.1.nip.io/h', /must use https/],
      ['http://[::ffff:127.0.0.1]/h', /must use https/],
      ['http://[::2]/h', /must use https/],
      ['ftp://example.com/h', /must use https$/],
      ['file:///etc/passwd', /must use https$/],
      ['javascript:alert(1)', /must use https$/],
      ['https://user:pass@example.com/h', /user name or password/],
      ['https://user@example.com/h', /user name or password/],
      ['http://u@127.0.0.1/h', /user name or password/],
      ['https://example.com/h#frag', /fragment/],
      ['https://example.com/h#', /fragment/],
      ['/relative/path', /not an absolute URL/],
      ['example.com', /not an absolute URL/],
      ['', /not an absolute URL/],
      [`https://example.com/${'a'.repeat(MAX_WEBHOOK_URL_LENGTH)}`, /longer than/],
    ];
    for (const [url, problem] of cases) expect(webhookUrlProblem(url), url).toMatch(problem);
  });

  it('loopback hosts as URL parsing spells them', () => {
    expect(['localhost', '[::1]', '127.0.0.1', '127.255.255.254'].every(isLoopbackHost)).toBe(true);
    expect(['::1', '128.0.0.1', 'localhost.', 'a.localhost', '0.0.0.0', '[::]'].some(isLoopbackHost)).toBe(false);
  });

  it('only the origin of a URL is recorded (an incoming-webhook URL carries its credential in the path)', () => {
    expect(urlOrigin('https://hooks.slack.com/services/T0/B0/SECRET?x=1')).toBe('https://hooks.slack.com');
    expect(urlOrigin('http://127.0.0.1:9000/h')).toBe('http://127.0.0.1:9000');
    expect(urlOrigin('nonsense')).toBe('(invalid URL)');
  });
});
