import { describe, expect, it } from 'vitest';
import { createZoneMatcher, zoneProblems } from '../../src/authz/zones.js';
import { ConfigError, loadConfig, parseNetworkZones, SETTINGS } from '../../src/platform/config.js';

// The authorization settings an operator gives at start: named network zones (`--network-zones` /
// CUSTOS_NETWORK_ZONES) and the time zone of `context.time` (`--authz-time-zone` / CUSTOS_AUTHZ_TIME_ZONE). A bad
// value stops the server with one line naming the setting; what the config accepts, the zone matcher accepts too.

describe('authorization settings', () => {
  it('default to no zones and UTC', () => {
    const c = loadConfig({}, {});
    expect([c.networkZones, c.authzTimeZone]).toEqual([[], 'UTC']);
  });

  it('parse zones from the flag or the environment, the flag winning', () => {
    const c = loadConfig({ networkZones: ' office = 10.0.0.0/8, 192.168.0.0/16 ; vpn=100.64.0.0/10\nv6=2001:db8::/32;;' }, { CUSTOS_NETWORK_ZONES: 'x=1.2.3.4' });
    expect(c.networkZones).toEqual([
      { name: 'office', cidrs: ['10.0.0.0/8', '192.168.0.0/16'] }, { name: 'vpn', cidrs: ['100.64.0.0/10'] }, { name: 'v6', cidrs: ['2001:db8::/32'] },
    ]);
    expect(loadConfig({}, { CUSTOS_NETWORK_ZONES: 'x=1.2.3.4' }).networkZones).toEqual([{ name: 'x', cidrs: ['1.2.3.4'] }]);
    const zoneOf = createZoneMatcher(c.networkZones);
    expect([zoneOf('10.1.1.1'), zoneOf('100.64.0.9'), zoneOf('2001:db8::5'), zoneOf('8.8.8.8')]).toEqual(['office', 'vpn', 'v6', '']);
  });

  it('refuse bad zones with one line naming the setting', () => {
    const cases: Array<[string, RegExp]> = [
      ['office', /NAME=CIDR/],
      ['Office=10.0.0.0/8', /lowercase name/],
      ['office=', /has no CIDR/],
      ['office=10.0.0.0/33', /expected IP addresses or CIDRs/],
      ['office=10.0.0.0/8/1', /expected IP addresses or CIDRs/],
      ['office=example.com', /expected IP addresses or CIDRs/],
      ['office=fe80::1%eth0', /expected IP addresses or CIDRs/],
      ['office=10.0.0.0/8;office=11.0.0.0/8', /given twice/],
      ['office=10.0.0.0/8;lab=10.9.0.0/8', /already in zone 'office'/],
    ];
    for (const [value, why] of cases) {
      let error: unknown;
      try { loadConfig({ networkZones: value }, {}); } catch (e) { error = e; }
      expect(error, value).toBeInstanceOf(ConfigError);
      expect((error as Error).message, value).toMatch(/^invalid --network-zones \/ CUSTOS_NETWORK_ZONES value '/);
      expect((error as Error).message, value).toMatch(why);
      expect((error as Error).message.split('\n'), value).toHaveLength(1);
    }
    // Nested networks of different sizes are fine: the most specific wins.
    expect(loadConfig({ networkZones: 'office=10.0.0.0/8;lab=10.20.0.0/16' }, {}).networkZones).toHaveLength(2);
  });

  it('accept exactly what the zone matcher accepts', () => {
    for (const text of ['a=10.0.0.0/8;b=10.0.0.0/16', 'a=::/0;b=0.0.0.0/0', 'a=10.0.0.1,10.0.0.2']) {
      expect(zoneProblems(parseNetworkZones(text)), text).toEqual([]);
    }
  });

  it('take an IANA time zone, validated and in its canonical spelling', () => {
    expect(loadConfig({ authzTimeZone: 'Europe/Berlin' }, {}).authzTimeZone).toBe('Europe/Berlin');
    expect(loadConfig({}, { CUSTOS_AUTHZ_TIME_ZONE: 'america/new_york' }).authzTimeZone).toBe('America/New_York');
    expect(loadConfig({ authzTimeZone: 'utc' }, {}).authzTimeZone).toBe('UTC');
    expect(loadConfig({}, { CUSTOS_AUTHZ_TIME_ZONE: '' }).authzTimeZone).toBe('UTC');
    for (const bad of ['Mars/Olympus', 'UTC; rm -rf', ' ', 'x'.repeat(100)]) {
      expect(() => loadConfig({ authzTimeZone: bad }, {}), bad).toThrow(/^invalid --authz-time-zone \/ CUSTOS_AUTHZ_TIME_ZONE value .*IANA time zone/);
    }
  });

  it('are declared like every other setting, so serve and init take them', () => {
    expect(SETTINGS.find((s) => s.key === 'networkZones')).toMatchObject({ flag: '--network-zones', env: 'CUSTOS_NETWORK_ZONES' });
    expect(SETTINGS.find((s) => s.key === 'authzTimeZone')).toMatchObject({ flag: '--authz-time-zone', env: 'CUSTOS_AUTHZ_TIME_ZONE', default: 'UTC' });
  });
});
