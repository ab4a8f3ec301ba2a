import { describe, expect, it } from 'vitest';
import { audienceOf, MAX_URI_LENGTH, parseIndicator, resourceUriProblem } from './audience.js';

describe('resourceUriProblem', () => {
  it('accepts absolute http(s) URIs and URNs, with paths, ports and queries', () => {
    for (const ok of [
      'https://gw.example.com', 'https://gw.example.com/', 'http://127.0.0.1:8081/v1', 'https://[::1]:8443/mcp', 'https://api.example.com/a/b?tenant=1',
      'urn:example:llm-gateway', 'urn:uuid:33336dcd-a239-444a-90ae-76d381c3e6d5', 'urn:ab:x', `https://h.example/${'a'.repeat(MAX_URI_LENGTH - 'https://h.example/'.length)}`,
    ]) expect(resourceUriProblem(ok), ok).toBeUndefined();
  });
  it('refuses fragments, relative references, other schemes, upper-case schemes, user info, spaces and non-ASCII', () => {
    const bad: Record<string, RegExp> = {
      'https://gw.example.com/#top': /fragment/,
      '/relative/path': /absolute/,
      'gw.example.com': /absolute/,
      'ftp://files.example.com': /absolute/,
      'HTTPS://gw.example.com': /absolute/,
      'URN:example:x': /absolute/,
      'https://user:pw@gw.example.com': /user information/,
      'https://gw.example.com/a b': /printable ASCII/,
      'https://gw.exämple.com': /printable ASCII/,
      'https://': /not a valid URI/,
      'urn:x:y': /namespace/,
      'urn:example': /namespace/,
      'urn:example:': /namespace/,
      [`https://h.example/${'a'.repeat(MAX_URI_LENGTH)}`]: /at most 2048/,
    };
    for (const [value, problem] of Object.entries(bad)) expect(resourceUriProblem(value), value).toMatch(problem);
  });
  it('reserves the urn:custos: namespace, in any case', () => {
    expect(resourceUriProblem('urn:custos:resource:other')).toMatch(/reserved/);
    expect(resourceUriProblem('urn:CUSTOS:thing')).toMatch(/reserved/);
    expect(resourceUriProblem('urn:custosx:thing')).toBeUndefined();
  });
});

describe('audienceOf', () => {
  it('is the uri when set, else urn:custos:resource:<name>', () => {
    expect(audienceOf({ name: 'llm-gateway', uri: 'https://gw.example.com' })).toBe('https://gw.example.com');
    expect(audienceOf({ name: 'llm-gateway', uri: null })).toBe('urn:custos:resource:llm-gateway');
  });
});

describe('parseIndicator', () => {
  it('reads urn:custos:resource:<name> and bare names by name, every other URI by exact uri', () => {
    expect(parseIndicator('urn:custos:resource:llm-gateway')).toEqual({ by: 'name', name: 'llm-gateway' });
    expect(parseIndicator('llm-gateway')).toEqual({ by: 'name', name: 'llm-gateway' });
    expect(parseIndicator('https://gw.example.com')).toEqual({ by: 'uri', uri: 'https://gw.example.com' });
    expect(parseIndicator('urn:example:x')).toEqual({ by: 'uri', uri: 'urn:example:x' });
  });
  it('matches nothing for the empty string, an empty or nested custos URN, or an oversized value', () => {
    expect(parseIndicator('')).toBeUndefined();
    expect(parseIndicator('urn:custos:resource:')).toBeUndefined();
    expect(parseIndicator('urn:custos:resource:a:b')).toBeUndefined();
    expect(parseIndicator('x'.repeat(MAX_URI_LENGTH + 1))).toBeUndefined();
  });
});
