import fs from 'node:fs';
import { Command, Option } from 'commander';
import { exportJWK, importSPKI } from 'jose';
import type { ClientKeyView } from '../../credentials/client-keys.schemas.js';
import { isUuid } from '../../platform/ids.js';
import { CliError } from '../client.js';
import { defined, examples, fetchPages, pageOptions, withClient } from '../common.js';
import { printJson, printTable, type CliIo } from '../output.js';

// `custos client-key`: the public keys an agent registers to authenticate with private_key_jwt (RFC 7523).
// Only public keys ever leave this machine: a private key given by mistake (a JWK with private members, a
// PEM private key) is refused here, before any request, with exit code 2.

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'];
const PEM_ALGS = ['EdDSA', 'ES256', 'ES384', 'RS256'];

function readFile(file: string, what: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 2);
  }
}

function readJson(file: string, what: string): unknown {
  try {
    return JSON.parse(readFile(file, what));
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`${file} is not JSON (expected ${what})`, 2);
  }
}

function refusePrivate(jwk: unknown, file: string): Record<string, unknown> {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw new CliError(`${file} does not hold a JWK object`, 2);
  const found = PRIVATE_MEMBERS.filter((m) => m in jwk);
  if (found.length > 0) throw new CliError(`${file} holds a private key (it has '${found[0]}'); give the public key only`, 2);
  return jwk as Record<string, unknown>;
}

/** A PEM SPKI public key as a JWK (jose importSPKI + exportJWK); the algorithm is tried in turn unless given. */
export async function pemToJwk(pem: string, file: string, alg?: string): Promise<Record<string, unknown>> {
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) throw new CliError(`${file} is a private key; give the public key (openssl pkey -pubout)`, 2);
  if (!pem.includes('-----BEGIN PUBLIC KEY-----')) throw new CliError(`${file} is not a PEM public key (expected -----BEGIN PUBLIC KEY-----)`, 2);
  for (const candidate of alg ? [alg] : PEM_ALGS) {
    try {
      const key = await importSPKI(pem, candidate, { extractable: true });
      const jwk = (await exportJWK(key)) as Record<string, unknown>;
      return alg ? { ...jwk, alg } : jwk;
    } catch {
      // not this algorithm: try the next
    }
  }
  throw new CliError(`${file} is not an Ed25519, P-256, P-384 or RSA public key${alg ? ` usable with ${alg}` : ''}`, 2);
}

function keyRows(keys: ClientKeyView[]) {
  return keys.map((k) => [k.id, k.principal.name, k.kid ?? '', k.alg, k.thumbprint, k.expires_at ?? '', k.removed_at ?? '', k.last_used_at ?? '']);
}
const KEY_HEAD = ['ID', 'PRINCIPAL', 'KID', 'ALG', 'THUMBPRINT', 'EXPIRES', 'REMOVED', 'LAST USED'];

export function registerClientKeyCommands(program: Command, io: CliIo): void {
  const key = program.command('client-key').description('public keys agents register to authenticate with private_key_jwt');

  key.command('add <principal>').description('register a public key (or a JWK Set) for a non-human principal')
    .option('--jwk <file>', 'a public JWK (JSON file)')
    .option('--jwks <file>', 'a JWK Set (JSON file with "keys")')
    .option('--public-key <file>', 'a PEM public key (SPKI, -----BEGIN PUBLIC KEY-----)')
    .addOption(new Option('--alg <alg>', 'the algorithm for --public-key (default: inferred, EdDSA, ES256, ES384 or RS256)')
      .choices(['EdDSA', 'Ed25519', 'ES256', 'ES384', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']))
    .option('--kid <kid>', 'key id to give a --public-key key (assertions naming it are checked against it only)')
    .option('--description <text>', 'what the key is for (shown in client-key list and the audit log)')
    .option('--expires-at <time>', 'when the key stops being accepted (ISO 8601); none by default')
    .addHelpText('after', examples(
      'openssl genpkey -algorithm ed25519 -out agent.pem && openssl pkey -in agent.pem -pubout -out agent.pub.pem',
      'custos client-key add triage-agent --public-key agent.pub.pem --kid ci-1',
      'custos client-key add triage-agent --jwks keys.json --expires-at 2027-01-01T00:00:00Z',
    ))
    .action(withClient(io, async (client, g, principal: string, o) => {
      const given = [o.jwk, o.jwks, o.publicKey].filter((v) => v !== undefined);
      if (given.length !== 1) throw new CliError('give exactly one of --jwk, --jwks or --public-key', 2);
      if (o.alg && !o.publicKey) throw new CliError('--alg goes with --public-key (a JWK names its own alg)', 2);
      if (o.kid && !o.publicKey) throw new CliError('--kid goes with --public-key (a JWK names its own kid)', 2);
      if (o.expiresAt !== undefined && Number.isNaN(Date.parse(o.expiresAt))) throw new CliError(`--expires-at '${o.expiresAt}' is not an ISO 8601 time`, 2);
      let body: Record<string, unknown>;
      if (o.jwks) {
        const set = readJson(o.jwks, 'a JWK Set') as { keys?: unknown };
        if (!Array.isArray(set?.keys)) throw new CliError(`${o.jwks} is not a JWK Set (no "keys" list)`, 2);
        body = { jwks: { keys: set.keys.map((k) => refusePrivate(k, o.jwks)) } };
      } else if (o.jwk) {
        body = { jwk: refusePrivate(readJson(o.jwk, 'a JWK'), o.jwk) };
      } else {
        const jwk = await pemToJwk(readFile(o.publicKey, 'public key'), o.publicKey, o.alg);
        body = { jwk: o.kid ? { ...jwk, kid: o.kid } : jwk };
      }
      const added = await client.request<{ keys: ClientKeyView[] }>('POST', '/v1/client-keys', defined({
        principal, ...body, description: o.description, expires_at: o.expiresAt === undefined ? undefined : new Date(o.expiresAt).toISOString(),
      }));
      if (g.json) return printJson(io, added);
      printTable(io, KEY_HEAD, keyRows(added.keys));
    }));

  pageOptions(key.command('list').description('list registered client keys')
    .option('--principal <name>', 'only the keys of this principal (id or name; owner-role operators must give one)')
    .option('--include-removed', 'include removed keys')
    .addHelpText('after', examples('custos client-key list --principal triage-agent --include-removed')))
    .action(withClient(io, async (client, g, o) => {
      const params = new URLSearchParams(defined({ principal: o.principal, include_removed: o.includeRemoved ? 'true' : undefined, limit: o.limit, cursor: o.cursor }) as Record<string, string>);
      const page = await fetchPages<ClientKeyView>(client, '/v1/client-keys', params, Boolean(o.all));
      if (g.json) return printJson(io, page);
      printTable(io, KEY_HEAD, keyRows(page.items));
    }));

  key.command('remove <id>').description('remove a client key at once (tokens obtained with it stop working)')
    .addHelpText('after', examples('custos client-key remove 0190f5a2-7c3b-7def-8abc-0123456789ab'))
    .action(withClient(io, async (client, g, id: string) => {
      if (!isUuid(id)) throw new CliError(`'${id}' is not a client key id (a UUID; see custos client-key list)`, 2);
      const k = await client.request<ClientKeyView>('DELETE', `/v1/client-keys/${encodeURIComponent(id)}`);
      if (g.json) printJson(io, k);
      else io.stdout.write(`removed ${k.id} (${k.principal.name})\n`);
    }));
}
