import crypto from 'node:crypto';
import fs from 'node:fs';
import { exportJWK, importPKCS8, SignJWT, type CryptoKey, type JWK } from 'jose';
import { CliError } from './client.js';

// The CLI as an OAuth client of the token endpoint, for agents and scripts that hold no operator token:
// a private key file authenticates the client (private_key_jwt, RFC 7523 §2.2) and, optionally, a second
// key binds the token (DPoP, RFC 9449). Keys are read from PKCS#8 PEM files; the private key never leaves
// this process, only signed assertions and proofs do.

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export interface SigningKeyFile {
  key: CryptoKey;
  alg: string;
  publicJwk: JWK;
}

/** Reads a PKCS#8 private key (Ed25519, P-256, P-384 or RSA) and picks the algorithm its type implies. */
export async function readPrivateKey(file: string): Promise<SigningKeyFile> {
  let pem: string;
  try {
    pem = fs.readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 2);
  }
  let object: crypto.KeyObject;
  try {
    object = crypto.createPrivateKey(pem);
  } catch {
    throw new CliError(`${file} is not a PEM private key (PKCS#8, e.g. openssl genpkey -algorithm ed25519 -out agent.pem)`, 2);
  }
  const type = object.asymmetricKeyType;
  const curve = object.asymmetricKeyDetails?.namedCurve;
  const alg = type === 'ed25519' ? 'EdDSA' : type === 'ec' && curve === 'prime256v1' ? 'ES256' : type === 'ec' && curve === 'secp384r1' ? 'ES384' : type === 'rsa' ? 'RS256' : undefined;
  if (!alg) throw new CliError(`${file}: unsupported key type ${type}${curve ? ` (${curve})` : ''}; use Ed25519, P-256, P-384 or RSA`, 2);
  const pkcs8 = object.export({ type: 'pkcs8', format: 'pem' }).toString();
  const key = await importPKCS8(pkcs8, alg, { extractable: true });
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...publicJwk } = await exportJWK(crypto.createPublicKey(object));
  return { key, alg, publicJwk };
}

async function clientAssertion(clientId: string, signer: SigningKeyFile, audience: string, kid: string | undefined): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ jti: crypto.randomUUID() })
    .setProtectedHeader({ alg: signer.alg, ...(kid ? { kid } : {}) })
    .setIssuer(clientId).setSubject(clientId).setAudience(audience).setIssuedAt(now).setExpirationTime(now + 60)
    .sign(signer.key);
}

export async function dpopProof(signer: SigningKeyFile, htm: string, htu: string, extra: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT({ htm, htu, jti: crypto.randomUUID(), ...extra })
    .setProtectedHeader({ alg: signer.alg, typ: 'dpop+jwt', jwk: signer.publicJwk })
    .setIssuedAt()
    .sign(signer.key);
}

/** A client's credentials: its private key (private_key_jwt, optionally naming a kid) or a client secret. */
export type ClientAuth =
  | { clientId: string; privateKey: SigningKeyFile; kid?: string }
  | { clientId: string; privateKey?: undefined; clientSecret: string };

/** Form parameters that authenticate the client with private_key_jwt or client_secret_post. */
export async function clientAuthParams(auth: ClientAuth, issuer: string): Promise<Record<string, string>> {
  if (auth.privateKey) {
    return { client_id: auth.clientId, client_assertion_type: ASSERTION_TYPE, client_assertion: await clientAssertion(auth.clientId, auth.privateKey, issuer, auth.kid) };
  }
  return { client_id: auth.clientId, client_secret: auth.clientSecret };
}

/** POSTs a form to an OAuth endpoint; OAuth errors ({ error, error_description }) become one-line CLI errors. */
export async function postForm(url: string, params: Record<string, string | string[] | undefined>, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const form = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) for (const item of v === undefined ? [] : Array.isArray(v) ? v : [v]) form.append(k, item);
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'custos-cli', ...headers }, body: form });
  } catch (error) {
    throw new CliError(`cannot reach the Custos server at ${new URL(url).origin} (${(error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message}); start it with: custos serve`, 3);
  }
  const text = await res.text();
  let body: any;
  try { body = text ? JSON.parse(text) : {}; } catch { body = { error: 'server_error', error_description: text.slice(0, 200) }; }
  if (!res.ok) throw new CliError(`${body.error_description ?? res.statusText} (${body.error ?? res.status})`, res.status === 401 ? 3 : 1);
  return { status: res.status, body };
}

/** The issuer (and token endpoint) as the server publishes it in its RFC 8414 metadata. */
export async function discover(server: string): Promise<{ issuer: string; token_endpoint: string; revocation_endpoint: string; introspection_endpoint: string }> {
  let res: Response;
  try {
    res = await fetch(`${server}/.well-known/oauth-authorization-server`);
  } catch (error) {
    throw new CliError(`cannot reach the Custos server at ${server} (${(error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message}); start it with: custos serve`, 3);
  }
  if (!res.ok) throw new CliError(`${server} does not publish OAuth metadata (${res.status})`, 1);
  return (await res.json()) as { issuer: string; token_endpoint: string; revocation_endpoint: string; introspection_endpoint: string };
}
