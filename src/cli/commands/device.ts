import { Command, InvalidArgumentError, Option } from 'commander';
import type { DeviceView } from '../../authz/devices/devices.schemas.js';
import { DEFAULT_VALID_FOR_SECONDS, MAX_VALID_FOR_SECONDS, MIN_VALID_FOR_SECONDS } from '../../authz/devices/devices.schemas.js';
import type { PostureIssuerView } from '../../authz/devices/posture-issuers.schemas.js';
import { DEFAULT_MAX_AGE_SECONDS, MAX_MAX_AGE_SECONDS, MIN_MAX_AGE_SECONDS } from '../../authz/devices/posture-issuers.schemas.js';
import { CliError } from '../client.js';
import { defined, examples, fetchPages, integerIn, pageOptions, readJwksFile, withClient } from '../common.js';
import { printJson, printRecord, printTable, type CliIo } from '../output.js';

// `custos device report|list|show|remove`: the posture records an MDM or EDR reports about a device and the principal
// using it (/v1/devices); and `custos posture-issuer add|list|show|remove`: the MDM/EDR systems whose signed posture
// assertions decisions trust (/v1/posture-issuers). See docs/posture.md.

const POSTURES = ['compliant', 'noncompliant', 'unknown'];
const reason = ['--reason <text>', 'why (recorded in the audit log)'] as const;

/** `--detail key=value` (repeatable): `true`/`false` become booleans, anything else stays text. */
function collectDetail(value: string, previous: Record<string, string | boolean> = {}): Record<string, string | boolean> {
  const i = value.indexOf('=');
  if (i <= 0) throw new InvalidArgumentError(`--detail '${value}' must be key=value`);
  const raw = value.slice(i + 1);
  return { ...previous, [value.slice(0, i)]: raw === 'true' ? true : raw === 'false' ? false : raw };
}


const keySource = (i: PostureIssuerView) => i.jwks_uri ?? `inline (${i.jwks?.keys.length ?? 0} key${i.jwks?.keys.length === 1 ? '' : 's'})`;

export function registerDeviceCommands(program: Command, io: CliIo): void {
  const device = program.command('device').description('device posture records reported by an MDM or EDR (decisions see them as context.device)')
    .addHelpText('after', examples('custos device report mac-0042 --principal alice --posture compliant --detail os="macOS 15.5" --detail disk_encrypted=true', 'custos device list --principal alice'));

  device.command('report <device-id>').description('report a device\'s posture for the principal using it (creates or replaces its record)')
    .requiredOption('--principal <principal>', 'the principal (id or name) using the device')
    .addOption(new Option('--posture <posture>', 'what the MDM/EDR found').choices(POSTURES).makeOptionMandatory())
    .option('--detail <key=value>', 'a reported fact (os, disk_encrypted, …), repeatable; true/false become booleans', collectDetail)
    .addOption(new Option('--valid-for <seconds>', `how long the record counts, ${MIN_VALID_FOR_SECONDS} to ${MAX_VALID_FOR_SECONDS} (default ${DEFAULT_VALID_FOR_SECONDS})`)
      .argParser(integerIn('--valid-for', MIN_VALID_FOR_SECONDS, MAX_VALID_FOR_SECONDS)))
    .option(...reason)
    .addHelpText('after', examples('custos device report mac-0042 --principal alice --posture compliant --detail disk_encrypted=true --valid-for 14400'))
    .action(withClient(io, async (client, g, id: string, o) => {
      const d = await client.request<DeviceView>('PUT', `/v1/devices/${encodeURIComponent(id)}`, defined({
        principal: o.principal, posture: o.posture, details: o.detail, valid_for_seconds: o.validFor, reason: o.reason,
      }));
      if (g.json) return printJson(io, d);
      io.stdout.write(`device '${d.device_id}' of '${d.principal?.name ?? ''}' is ${d.posture} until ${d.valid_until}\n`);
    }));

  pageOptions(device.command('list').description('list device records')
    .option('--principal <principal>', 'only this principal\'s devices')
    .addOption(new Option('--posture <posture>', 'only records with this posture').choices(POSTURES))
    .addHelpText('after', examples('custos device list --principal alice', 'custos device list --posture noncompliant --all')))
    .action(withClient(io, async (client, g, o) => {
      const params = new URLSearchParams(defined({ principal: o.principal, posture: o.posture, limit: o.limit, cursor: o.cursor }) as Record<string, string>);
      const page = await fetchPages<DeviceView>(client, '/v1/devices', params, Boolean(o.all));
      if (g.json) return printJson(io, page);
      printTable(io, ['DEVICE', 'PRINCIPAL', 'POSTURE', 'VALID UNTIL', 'CURRENT'], page.items.map((d) => [
        d.device_id, d.principal?.name ?? '', d.posture, d.valid_until, d.current ? 'yes' : 'expired',
      ]));
      if (page.next_cursor) io.stdout.write(`more: --cursor ${page.next_cursor}\n`);
    }));

  device.command('show <device-id>').description('show a device record')
    .addHelpText('after', examples('custos device show mac-0042'))
    .action(withClient(io, async (client, g, id: string) => {
      const d = await client.request<DeviceView>('GET', `/v1/devices/${encodeURIComponent(id)}`);
      if (g.json) return printJson(io, d);
      printRecord(io, { ...d, principal: d.principal?.name ?? null });
    }));

  device.command('remove <device-id>').description('remove a device record (its posture is unknown at once)')
    .option(...reason)
    .addHelpText('after', examples('custos device remove mac-0042 --reason "wiped and returned"'))
    .action(withClient(io, async (client, g, id: string, o) => {
      const q = o.reason ? `?reason=${encodeURIComponent(o.reason)}` : '';
      await client.request('DELETE', `/v1/devices/${encodeURIComponent(id)}${q}`);
      if (g.json) return printJson(io, { removed: id });
      io.stdout.write(`removed device '${id}'\n`);
    }));

  const issuer = program.command('posture-issuer').description('MDM/EDR systems whose signed posture assertions (JWTs) decisions trust')
    .addHelpText('after', examples('custos posture-issuer add intune --issuer https://mdm.example.com --jwks-uri https://mdm.example.com/jwks.json --max-age 900', 'custos posture-issuer list'));

  issuer.command('add <name>').description('trust an MDM or EDR to sign posture assertions (admin, security)')
    .requiredOption('--issuer <url>', 'the exact iss of its assertions (https; plain http only to 127.0.0.1, [::1] or localhost)')
    .option('--jwks-uri <url>', 'where it publishes its public keys (give this or --jwks)')
    .option('--jwks <file>', 'a file holding its public keys as a JWKS (give this or --jwks-uri)')
    .addOption(new Option('--max-age <seconds>', `assertions issued longer ago are stale, ${MIN_MAX_AGE_SECONDS} to ${MAX_MAX_AGE_SECONDS} (default ${DEFAULT_MAX_AGE_SECONDS})`)
      .argParser(integerIn('--max-age', MIN_MAX_AGE_SECONDS, MAX_MAX_AGE_SECONDS)))
    .option(...reason)
    .addHelpText('after', examples('custos posture-issuer add intune --issuer https://mdm.example.com --jwks-uri https://mdm.example.com/jwks.json', 'custos posture-issuer add edr --issuer https://edr.example.com --jwks edr-keys.json --max-age 600'))
    .action(withClient(io, async (client, g, name: string, o) => {
      if ((o.jwksUri === undefined) === (o.jwks === undefined)) throw new CliError('give exactly one of --jwks-uri or --jwks', 2);
      const i = await client.request<PostureIssuerView>('POST', '/v1/posture-issuers', defined({
        name, issuer: o.issuer, jwks_uri: o.jwksUri, jwks: o.jwks !== undefined ? readJwksFile(o.jwks, 'a JWKS of public keys') : undefined, max_age_seconds: o.maxAge, reason: o.reason,
      }));
      if (g.json) return printJson(io, i);
      io.stdout.write(`trusting posture assertions from '${i.name}' (${i.issuer}), fresh for ${i.max_age_seconds} s\n`);
    }));

  pageOptions(issuer.command('list').description('list posture issuers')
    .addHelpText('after', examples('custos posture-issuer list')))
    .action(withClient(io, async (client, g, o) => {
      const params = new URLSearchParams(defined({ limit: o.limit, cursor: o.cursor }) as Record<string, string>);
      const page = await fetchPages<PostureIssuerView>(client, '/v1/posture-issuers', params, Boolean(o.all));
      if (g.json) return printJson(io, page);
      printTable(io, ['NAME', 'ISSUER', 'KEYS', 'MAX AGE'], page.items.map((i) => [i.name, i.issuer, keySource(i), `${i.max_age_seconds}s`]));
      if (page.next_cursor) io.stdout.write(`more: --cursor ${page.next_cursor}\n`);
    }));

  issuer.command('show <name>').description('show a posture issuer')
    .addHelpText('after', examples('custos posture-issuer show intune'))
    .action(withClient(io, async (client, g, name: string) => {
      const i = await client.request<PostureIssuerView>('GET', `/v1/posture-issuers/${encodeURIComponent(name)}`);
      if (g.json) return printJson(io, i);
      printRecord(io, { ...i, jwks: i.jwks ? `${i.jwks.keys.length} inline key(s)` : null });
    }));

  issuer.command('remove <name>').description('stop trusting a posture issuer (its assertions count as unknown posture at once)')
    .option(...reason)
    .addHelpText('after', examples('custos posture-issuer remove intune --reason "moved to the new MDM"'))
    .action(withClient(io, async (client, g, name: string, o) => {
      const q = o.reason ? `?reason=${encodeURIComponent(o.reason)}` : '';
      await client.request('DELETE', `/v1/posture-issuers/${encodeURIComponent(name)}${q}`);
      if (g.json) return printJson(io, { removed: name });
      io.stdout.write(`no longer trusting posture assertions from '${name}'\n`);
    }));
}
