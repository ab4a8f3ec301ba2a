import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/platform/config.js';

// The gateway's settings: its port (default 8081, 0 for a free one, off for none), its public URL (the audience of
// tokens for it), content hashing, and the metrics scrape credential (environment only).

describe('gateway settings', () => {
  const load = (flags: Record<string, string>, env: Record<string, string> = {}) => loadConfig(flags, env, '/tmp');
  it('defaults: port 8081, no public URL (derived from the listener), no hashing, no scrape credential', () => {
    const c = load({});
    expect(c).toMatchObject({ gatewayPort: 8081, gatewayPublicUrl: undefined, gatewayHashContent: false, metricsToken: undefined });
  });
  it('takes flags over the environment, and off turns the listener off', () => {
    expect(load({ gatewayPort: '0' }, { CUSTOS_GATEWAY_PORT: '9000' }).gatewayPort).toBe(0);
    expect(load({}, { CUSTOS_GATEWAY_PORT: '9000' }).gatewayPort).toBe(9000);
    expect(load({ gatewayPort: 'off' }).gatewayPort).toBeNull();
    expect(load({ gatewayPublicUrl: 'https://gw.example.com/' }).gatewayPublicUrl).toBe('https://gw.example.com');
    expect(load({ gatewayHashContent: 'true' }).gatewayHashContent).toBe(true);
    expect(load({}, { CUSTOS_METRICS_TOKEN: 'scrape-0123456789abcdef' }).metricsToken).toBe('scrape-0123456789abcdef');
  });
  it('refuses bad values with one line naming the setting', () => {
    for (const [flags, env, what] of [
      [{ gatewayPort: '70000' }, {}, /--gateway-port/],
      [{ gatewayPort: '-1' }, {}, /--gateway-port/],
      [{ gatewayPort: 'eighty' }, {}, /--gateway-port/],
      [{ gatewayPublicUrl: 'ftp://gw' }, {}, /--gateway-public-url/],
      [{ gatewayPublicUrl: 'https://gw.example.com/?x=1' }, {}, /--gateway-public-url/],
      [{ gatewayHashContent: 'yes' }, {}, /--gateway-hash-content/],
      [{}, { CUSTOS_METRICS_TOKEN: 'short' }, /CUSTOS_METRICS_TOKEN/],
    ] as const) {
      let error: unknown;
      try { load(flags as Record<string, string>, env as Record<string, string>); } catch (e) { error = e; }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(what);
      expect((error as Error).message).not.toContain('\n');
    }
  });
});
