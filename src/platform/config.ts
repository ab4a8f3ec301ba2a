import net from 'node:net';
import path from 'node:path';
import { z } from 'zod';

// Configuration comes from flags first, then CUSTOS_* environment variables, then defaults.
// It is validated once at start; each bad value yields one clear line naming the setting.

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  /** undefined: SQLite at <dataDir>/custos.db; otherwise a postgres:// URL. */
  databaseUrl: string | undefined;
  logLevel: (typeof LOG_LEVELS)[number];
  /** Base64 32-byte master key from the environment; when absent the key file in the data dir is used. */
  masterKey: string | undefined;
  /** Milliseconds between signed audit checkpoints while events arrive. */
  checkpointIntervalMs: number;
  /** Where signed checkpoints are pushed for external witnessing: stdout, file:PATH, webhook:URL (comma-separated). */
  checkpointSinks: string | undefined;
  /** Revoke a live Custos credential as soon as a scan report shows it leaked. */
  autoRevokeLeaked: boolean;
  /** Reverse proxies whose X-Forwarded-For is believed for the source address; empty: the socket peer. */
  trustedProxies: string[];
  /** The server's public base URL (no trailing slash): the OAuth issuer and the management API's audience.
   * undefined: derived from the listen address once it is known. */
  publicUrl: string | undefined;
  /** Algorithm of new token-signing keys. */
  signingAlg: 'EdDSA' | 'ES256';
  /** Days an active signing key signs before it is rotated automatically. */
  keyRotationDays: number;
  /** Every DPoP proof must carry a fresh server nonce (RFC 9449 §8, §9). */
  requireDpopNonce: boolean;
  /** RFC 7591 Dynamic Client Registration at /oauth/register (the MCP specification keeps it as deprecated). */
  dynamicClientRegistration: boolean;
  /** Hosts (names, IPs or CIDRs) a Client ID Metadata Document may be fetched from although private or loopback;
   * only these may also use http. Empty: https to public addresses only. */
  cimdAllowPrivate: string[];
  /** Hours a person's sign-in lasts; its refresh tokens end with it. */
  sessionHours: number;
  /** Whether the sign-in page offers pasting an operator token: auto (only while no identity provider is configured), true or false. */
  operatorTokenSignin: 'auto' | 'true' | 'false';
  /** Named network zones for authorization (`context.provenance.zone`): a source address in a zone's CIDRs is in it. */
  networkZones: Array<{ name: string; cidrs: string[] }>;
  /** IANA time zone of `context.time.hour` and `weekday` in authorization decisions. */
  authzTimeZone: string;
  /** Seconds between approvals sweeps (request expiry, review notices and lapses, webhook retries); 0: never. */
  approvalsSweepSeconds: number;
  /** The model and MCP gateway's own listener (same host as the control plane): 0 picks a free port; null: off. */
  gatewayPort: number | null;
  /** The gateway's public base URL (no trailing slash): the audience of tokens for the gateway. undefined: derived
   * from its listen address. */
  gatewayPublicUrl: string | undefined;
  /** Record a SHA-256 of each prompt and completion in the gateway's call events (never the text itself). */
  gatewayHashContent: boolean;
  /** A bearer credential Prometheus may scrape /metrics with, besides an operator token; undefined: none. */
  metricsToken: string | undefined;
}

export interface SettingSpec {
  key: keyof ConfigInput;
  flag: string;
  env: string;
  default: string;
  description: string;
}

export interface ConfigInput {
  host?: string;
  port?: string;
  dataDir?: string;
  databaseUrl?: string;
  logLevel?: string;
  checkpointIntervalMs?: string;
  checkpointSinks?: string;
  autoRevokeLeaked?: string;
  trustedProxies?: string;
  publicUrl?: string;
  signingAlg?: string;
  keyRotationDays?: string;
  requireDpopNonce?: string;
  dynamicClientRegistration?: string;
  cimdAllowPrivate?: string;
  sessionHours?: string;
  operatorTokenSignin?: string;
  networkZones?: string;
  authzTimeZone?: string;
  approvalsSweepSeconds?: string;
  gatewayPort?: string;
  gatewayPublicUrl?: string;
  gatewayHashContent?: string;
}

/** Every setting, in one table: the README's settings table is generated from the same facts. */
export const SETTINGS: SettingSpec[] = [
  { key: 'host', flag: '--host', env: 'CUSTOS_HOST', default: '127.0.0.1', description: 'Address the control plane listens on' },
  { key: 'port', flag: '--port', env: 'CUSTOS_PORT', default: '8080', description: 'TCP port (1-65535; 0 picks a free port)' },
  { key: 'dataDir', flag: '--data-dir', env: 'CUSTOS_DATA_DIR', default: './.custos', description: 'Directory for the master key, bootstrap token and the SQLite store (created 0700)' },
  { key: 'databaseUrl', flag: '--database-url', env: 'CUSTOS_DATABASE_URL', default: '(SQLite in the data dir)', description: 'postgres://user@host:port/db to use PostgreSQL instead of the embedded SQLite store' },
  { key: 'logLevel', flag: '--log-level', env: 'CUSTOS_LOG_LEVEL', default: 'info', description: `One of ${LOG_LEVELS.join(', ')}` },
  { key: 'checkpointSinks', flag: '--checkpoint-sink', env: 'CUSTOS_CHECKPOINT_SINKS', default: '(none)', description: 'Push each signed audit checkpoint to stdout, file:PATH or webhook:URL (comma-separated) for external witnessing' },
  { key: 'autoRevokeLeaked', flag: '--auto-revoke-leaked', env: 'CUSTOS_AUTO_REVOKE_LEAKED', default: 'true', description: 'Revoke a live Custos credential at once when a scan report shows it leaked (true or false)' },
  { key: 'trustedProxies', flag: '--trusted-proxies', env: 'CUSTOS_TRUSTED_PROXIES', default: '(none)', description: 'Reverse proxies (IP addresses or CIDRs, comma-separated) whose X-Forwarded-For gives the client address; without it the socket peer is the source' },
  { key: 'publicUrl', flag: '--public-url', env: 'CUSTOS_PUBLIC_URL', default: '(http://<host>:<port>)', description: 'Public base URL clients reach the server at (https://custos.example.com): the OAuth issuer, and the audience of tokens for the management API' },
  { key: 'signingAlg', flag: '--signing-alg', env: 'CUSTOS_SIGNING_ALG', default: 'EdDSA', description: 'Algorithm of new token-signing keys: EdDSA (Ed25519) or ES256 (P-256)' },
  { key: 'keyRotationDays', flag: '--key-rotation-days', env: 'CUSTOS_KEY_ROTATION_DAYS', default: '30', description: 'Days a token-signing key signs before it is replaced automatically (1-365); the old key keeps verifying until its tokens expire' },
  { key: 'requireDpopNonce', flag: '--require-dpop-nonce', env: 'CUSTOS_REQUIRE_DPOP_NONCE', default: 'false', description: 'Require a server nonce in every DPoP proof (true or false): clients get use_dpop_nonce and a DPoP-Nonce header, then retry; limits how long a stolen proof is usable' },
  { key: 'sessionHours', flag: '--session-hours', env: 'CUSTOS_SESSION_HOURS', default: '12', description: 'Hours a person stays signed in (1-720): refresh tokens end with the session; roles and teams from groups are re-read at every refresh' },
  { key: 'operatorTokenSignin', flag: '--operator-token-signin', env: 'CUSTOS_OPERATOR_TOKEN_SIGNIN', default: 'auto', description: 'Offer signing in by pasting an operator token on the sign-in page: auto (only while no identity provider is configured), true or false' },
  { key: 'dynamicClientRegistration', flag: '--dynamic-client-registration', env: 'CUSTOS_DYNAMIC_CLIENT_REGISTRATION', default: 'false', description: 'Accept RFC 7591 Dynamic Client Registration at /oauth/register (true or false; the MCP specification prefers Client ID Metadata Documents)' },
  { key: 'cimdAllowPrivate', flag: '--cimd-allow-private', env: 'CUSTOS_CIMD_ALLOW_PRIVATE', default: '(none)', description: 'Hosts (names, IP addresses or CIDRs, comma-separated) a Client ID Metadata Document may be fetched from although private or loopback, over http too; for development' },
  { key: 'networkZones', flag: '--network-zones', env: 'CUSTOS_NETWORK_ZONES', default: '(none)', description: 'Named network zones for authorization policies (context.provenance.zone): NAME=CIDR[,CIDR…], zones separated by ; (office=10.0.0.0/8,192.168.0.0/16;vpn=100.64.0.0/10); the most specific CIDR wins' },
  { key: 'authzTimeZone', flag: '--authz-time-zone', env: 'CUSTOS_AUTHZ_TIME_ZONE', default: 'UTC', description: 'IANA time zone of the hour and weekday authorization policies see (context.time), e.g. Europe/Berlin' },
  { key: 'approvalsSweepSeconds', flag: '--approvals-sweep-seconds', env: 'CUSTOS_APPROVALS_SWEEP_SECONDS', default: '15', description: 'Seconds between approvals sweeps (0-3600): pending requests expire, review notices and lapses, webhook retries; 0 turns the timer off' },
  { key: 'gatewayPort', flag: '--gateway-port', env: 'CUSTOS_GATEWAY_PORT', default: '8081', description: 'TCP port of the model and MCP gateway (0-65535; 0 picks a free port; off: no gateway listener)' },
  { key: 'gatewayPublicUrl', flag: '--gateway-public-url', env: 'CUSTOS_GATEWAY_PUBLIC_URL', default: '(http://<host>:<gateway-port>)', description: 'Public base URL agents reach the gateway at: the audience tokens for the gateway carry (RFC 8707 resource), published in its RFC 9728 metadata' },
  { key: 'gatewayHashContent', flag: '--gateway-hash-content', env: 'CUSTOS_GATEWAY_HASH_CONTENT', default: 'false', description: 'Record a SHA-256 of each prompt and completion in gateway call events (true or false; the text itself is never recorded)' },
  { key: 'checkpointIntervalMs', flag: '--checkpoint-interval-ms', env: 'CUSTOS_CHECKPOINT_INTERVAL_MS', default: '1000', description: 'How often a signed audit checkpoint is made while events arrive (100-60000)' },
];

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const portSchema = z.coerce.number().int().min(0).max(65535);

export function loadConfig(flags: ConfigInput, env: NodeJS.ProcessEnv, cwd = process.cwd()): Config {
  const pick = (s: SettingSpec): string | undefined => flags[s.key] ?? env[s.env] ?? undefined;
  const spec = (key: keyof ConfigInput) => SETTINGS.find((s) => s.key === key)!;
  const bad = (key: keyof ConfigInput, value: string, why: string) => {
    const s = spec(key);
    return new ConfigError(`invalid ${s.flag} / ${s.env} value '${value}': ${why}`);
  };

  const host = pick(spec('host')) ?? '127.0.0.1';
  if (!/^[A-Za-z0-9.:\-[\]]+$/.test(host)) throw bad('host', host, 'expected a hostname or IP address');

  const portRaw = pick(spec('port')) ?? '8080';
  const port = portSchema.safeParse(portRaw);
  if (!port.success || !/^\d+$/.test(portRaw)) throw bad('port', portRaw, 'expected an integer from 0 to 65535');

  const dataDirRaw = pick(spec('dataDir')) ?? './.custos';
  if (dataDirRaw.trim() === '') throw bad('dataDir', dataDirRaw, 'must not be empty');
  const dataDir = path.resolve(cwd, dataDirRaw);

  const databaseUrl = pick(spec('databaseUrl'));
  if (databaseUrl !== undefined && databaseUrl !== '') {
    let url: URL;
    try {
      url = new URL(databaseUrl);
    } catch {
      throw bad('databaseUrl', redactUrl(databaseUrl), 'not a URL; expected postgres://user@host:port/database');
    }
    if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
      throw bad('databaseUrl', redactUrl(databaseUrl), 'only postgres:// URLs are supported (omit it for the embedded SQLite store)');
    }
  }

  const logLevel = pick(spec('logLevel')) ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) throw bad('logLevel', logLevel, `expected one of ${LOG_LEVELS.join(', ')}`);

  const intervalRaw = pick(spec('checkpointIntervalMs')) ?? '1000';
  const interval = Number(intervalRaw);
  if (!/^\d+$/.test(intervalRaw) || interval < 100 || interval > 60_000) {
    throw bad('checkpointIntervalMs', intervalRaw, 'expected an integer from 100 to 60000');
  }

  const checkpointSinks = pick(spec('checkpointSinks'));
  for (const sink of (checkpointSinks ?? '').split(',').map((x) => x.trim()).filter(Boolean)) {
    if (sink !== 'stdout' && !/^file:.+/.test(sink) && !/^webhook:https?:\/\/.+/.test(sink)) {
      throw bad('checkpointSinks', sink, 'expected stdout, file:PATH or webhook:http(s)://URL');
    }
  }

  const autoRevokeRaw = pick(spec('autoRevokeLeaked')) ?? 'true';
  if (autoRevokeRaw !== 'true' && autoRevokeRaw !== 'false') throw bad('autoRevokeLeaked', autoRevokeRaw, 'expected true or false');

  const trustedRaw = pick(spec('trustedProxies')) ?? '';
  const trustedProxies = trustedRaw.split(',').map((x) => x.trim()).filter(Boolean);
  for (const entry of trustedProxies) {
    const [addr, bits, extra] = entry.split('/');
    const family = net.isIP(addr ?? '');
    const maxBits = family === 6 ? 128 : 32;
    if (!family || extra !== undefined || (bits !== undefined && (!/^\d+$/.test(bits) || Number(bits) > maxBits))) {
      throw bad('trustedProxies', entry, 'expected IP addresses or CIDRs such as 10.0.0.5 or 10.0.0.0/8, comma-separated');
    }
  }

  // A public base URL setting: http(s), no query, fragment or credentials; kept without trailing slashes.
  function baseUrlSetting(key: 'publicUrl' | 'gatewayPublicUrl'): string | undefined {
    const raw = pick(spec(key));
    if (raw === undefined || raw === '') return undefined;
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw bad(key, raw, 'not a URL; expected https://host[:port][/path]');
    }
    if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.search || url.hash || url.username || url.password) {
      throw bad(key, raw, 'expected an http(s) URL without query, fragment or credentials');
    }
    return url.href.replace(/\/+$/, '');
  }
  const publicUrl = baseUrlSetting('publicUrl');
  const gatewayPublicUrl = baseUrlSetting('gatewayPublicUrl');

  const signingAlg = pick(spec('signingAlg')) ?? 'EdDSA';
  if (signingAlg !== 'EdDSA' && signingAlg !== 'ES256') throw bad('signingAlg', signingAlg, 'expected EdDSA or ES256');

  const rotationRaw = pick(spec('keyRotationDays')) ?? '30';
  const keyRotationDays = Number(rotationRaw);
  if (!/^\d+$/.test(rotationRaw) || keyRotationDays < 1 || keyRotationDays > 365) throw bad('keyRotationDays', rotationRaw, 'expected an integer from 1 to 365');

  const nonceRaw = pick(spec('requireDpopNonce')) ?? 'false';
  if (nonceRaw !== 'true' && nonceRaw !== 'false') throw bad('requireDpopNonce', nonceRaw, 'expected true or false');

  const dcrRaw = pick(spec('dynamicClientRegistration')) ?? 'false';
  if (dcrRaw !== 'true' && dcrRaw !== 'false') throw bad('dynamicClientRegistration', dcrRaw, 'expected true or false');

  const cimdRaw = pick(spec('cimdAllowPrivate')) ?? '';
  const cimdAllowPrivate = cimdRaw.split(',').map((x) => x.trim()).filter(Boolean);
  for (const entry of cimdAllowPrivate) {
    const [addr, bits, extra] = entry.split('/');
    const family = net.isIP(addr ?? '');
    const isHostname = family === 0 && bits === undefined && /^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(entry);
    const maxBits = family === 6 ? 128 : 32;
    if (!isHostname && (!family || extra !== undefined || (bits !== undefined && (!/^\d+$/.test(bits) || Number(bits) > maxBits)))) {
      throw bad('cimdAllowPrivate', entry, 'expected host names, IP addresses or CIDRs such as localhost, 127.0.0.1 or 10.0.0.0/8, comma-separated');
    }
  }

  const sessionRaw = pick(spec('sessionHours')) ?? '12';
  const sessionHours = Number(sessionRaw);
  if (!/^\d+$/.test(sessionRaw) || sessionHours < 1 || sessionHours > 720) throw bad('sessionHours', sessionRaw, 'expected an integer from 1 to 720');

  const opSigninRaw = pick(spec('operatorTokenSignin')) ?? 'auto';
  if (opSigninRaw !== 'auto' && opSigninRaw !== 'true' && opSigninRaw !== 'false') throw bad('operatorTokenSignin', opSigninRaw, 'expected auto, true or false');

  const zonesRaw = pick(spec('networkZones')) ?? '';
  const networkZones = parseNetworkZones(zonesRaw, (value, why) => bad('networkZones', value, why));

  const timeZoneRaw = pick(spec('authzTimeZone')) || 'UTC';
  let authzTimeZone: string;
  try {
    if (!/^[A-Za-z0-9_+\-/]{1,64}$/.test(timeZoneRaw)) throw new RangeError('not a time zone name');
    authzTimeZone = new Intl.DateTimeFormat('en-US', { timeZone: timeZoneRaw }).resolvedOptions().timeZone;
  } catch {
    throw bad('authzTimeZone', timeZoneRaw, 'expected an IANA time zone such as UTC, Europe/Berlin or America/New_York');
  }

  const sweepRaw = pick(spec('approvalsSweepSeconds')) ?? '15';
  const approvalsSweepSeconds = Number(sweepRaw);
  if (!/^\d+$/.test(sweepRaw) || approvalsSweepSeconds > 3600) throw bad('approvalsSweepSeconds', sweepRaw, 'expected an integer from 0 to 3600');

  const gatewayPortRaw = pick(spec('gatewayPort')) ?? '8081';
  let gatewayPort: number | null = null;
  if (gatewayPortRaw !== 'off') {
    const parsed = portSchema.safeParse(gatewayPortRaw);
    if (!parsed.success || !/^\d+$/.test(gatewayPortRaw)) throw bad('gatewayPort', gatewayPortRaw, 'expected an integer from 0 to 65535, or off');
    gatewayPort = parsed.data;
  }
  const hashRaw = pick(spec('gatewayHashContent')) ?? 'false';
  if (hashRaw !== 'true' && hashRaw !== 'false') throw bad('gatewayHashContent', hashRaw, 'expected true or false');
  // The scrape credential comes from the environment only (never a flag: it would show in the process list).
  const metricsToken = env.CUSTOS_METRICS_TOKEN ? env.CUSTOS_METRICS_TOKEN : undefined;
  if (metricsToken !== undefined && !/^[\x21-\x7e]{16,4096}$/.test(metricsToken)) {
    throw new ConfigError('CUSTOS_METRICS_TOKEN: expected 16 to 4096 visible ASCII characters');
  }

  const masterKey = env.CUSTOS_MASTER_KEY === '' ? undefined : env.CUSTOS_MASTER_KEY;

  return {
    host,
    port: port.data,
    dataDir,
    databaseUrl: databaseUrl === '' ? undefined : databaseUrl,
    logLevel: logLevel as Config['logLevel'],
    masterKey,
    checkpointIntervalMs: interval,
    checkpointSinks: checkpointSinks || undefined,
    autoRevokeLeaked: autoRevokeRaw === 'true',
    trustedProxies,
    publicUrl,
    signingAlg,
    keyRotationDays,
    requireDpopNonce: nonceRaw === 'true',
    dynamicClientRegistration: dcrRaw === 'true',
    cimdAllowPrivate,
    sessionHours,
    operatorTokenSignin: opSigninRaw,
    networkZones,
    authzTimeZone,
    approvalsSweepSeconds,
    gatewayPort,
    gatewayPublicUrl,
    gatewayHashContent: hashRaw === 'true',
    metricsToken,
  };
}

const ZONE_NAME = /^[a-z0-9][a-z0-9_.-]{0,62}$/;

/**
 * `office=10.0.0.0/8,192.168.0.0/16;vpn=100.64.0.0/10` → zones. Zones are separated by `;` (or newlines), CIDRs by
 * commas; a bare address is a /32 or /128. Refused: a bad name or CIDR, a zone given twice, and the same network in
 * two zones (which zone an address is in would depend on order). The authz module's zones.ts applies the same
 * rules when it builds its matcher; overlapping networks of different sizes are fine (the most specific wins).
 */
export function parseNetworkZones(text: string, bad: (value: string, why: string) => Error = (v, w) => new ConfigError(`'${v}': ${w}`)): Array<{ name: string; cidrs: string[] }> {
  const zones: Array<{ name: string; cidrs: string[] }> = [];
  const networks: Array<{ zone: string; family: 'ipv4' | 'ipv6'; bits: number; list: net.BlockList; addr: string }> = [];
  for (const entry of text.split(/[;\n]/).map((x) => x.trim()).filter(Boolean)) {
    const eq = entry.indexOf('=');
    const name = eq > 0 ? entry.slice(0, eq).trim() : '';
    if (!ZONE_NAME.test(name)) throw bad(entry, 'expected NAME=CIDR[,CIDR…] with a lowercase name (letters, digits, - _ .), zones separated by ;');
    if (zones.some((z) => z.name === name)) throw bad(entry, `zone '${name}' is given twice`);
    const cidrs = entry.slice(eq + 1).split(',').map((x) => x.trim()).filter(Boolean);
    if (cidrs.length === 0) throw bad(entry, `zone '${name}' has no CIDR`);
    for (const cidr of cidrs) {
      const [addr, bitsText, extra] = cidr.split('/');
      const family = net.isIPv4(addr ?? '') ? 'ipv4' : net.isIPv6(addr ?? '') ? 'ipv6' : undefined;
      const max = family === 'ipv6' ? 128 : 32;
      if (!family || addr!.includes('%') || extra !== undefined || (bitsText !== undefined && (!/^\d{1,3}$/.test(bitsText) || Number(bitsText) > max))) {
        throw bad(cidr, `zone '${name}': expected IP addresses or CIDRs such as 10.0.0.0/8 or 2001:db8::/32`);
      }
      const bits = bitsText === undefined ? max : Number(bitsText);
      const clash = networks.find((n) => n.family === family && n.bits === bits && n.list.check(addr!, family));
      if (clash) throw bad(cidr, `the network is already in zone '${clash.zone}' (${clash.addr}/${clash.bits}); an address in it must have one zone`);
      const list = new net.BlockList();
      list.addSubnet(addr!, bits, family);
      networks.push({ zone: name, family, bits, list, addr: addr! });
    }
    zones.push({ name, cidrs });
  }
  if (zones.length > 64) throw bad(`${zones.length} zones`, 'at most 64 zones');
  if (networks.length > 1024) throw bad(`${networks.length} CIDRs`, 'at most 1024 CIDRs in all');
  return zones;
}

/** Never echo a database password back in an error message. */
export function redactUrl(value: string): string {
  return value.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@');
}
