import type { AccessTokenClaims, ActClaim } from '../contracts.js';
import { reject, type Check, type VerifyState } from './context.js';

// Step 5: the claims every access token of ours carries, and their shapes (RFC 9068 §2.2, RFC 8693 §4).
//
// Rules:
// - iss, sub, aud, client_id, jti, iat and exp are present → else missing_claim.
// - iss equals our issuer exactly → else wrong_issuer. (aud is checked per request in audience.ts, and the
//   times in lifetime.ts, because both must also hold for a token found in the verified-token cache.)
// - Shapes, else malformed_token: iss, sub, client_id and jti non-empty strings; aud a string or a non-empty
//   list of strings; iat, exp, nbf and auth_time whole seconds between 0 and year 9999; scope (default '') and
//   purpose strings; cnf an object with a non-empty string jkt; amr a list of strings; act an object with a
//   string sub, nesting prior actors no deeper than MAX_ACT_DEPTH.
// - The act chain is read outermost first: act.sub is the current actor, act.act.sub the one before it, ….

export const MAX_ACT_DEPTH = 16;
const REQUIRED = ['iss', 'sub', 'aud', 'client_id', 'jti', 'iat', 'exp'] as const;
const MAX_TIME = 253_402_300_799; // 9999-12-31T23:59:59Z

const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 2048;
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_TIME;

function actChainOf(state: VerifyState, act: unknown): string[] {
  const chain: string[] = [];
  let node = act;
  while (node !== undefined) {
    if (node === null || typeof node !== 'object' || Array.isArray(node) || !isText((node as ActClaim).sub)) {
      reject(state, 'malformed_token', 'the act claim must nest objects with a sub');
    }
    if (chain.length === MAX_ACT_DEPTH) reject(state, 'malformed_token', `the act chain is deeper than ${MAX_ACT_DEPTH}`);
    chain.push((node as ActClaim).sub);
    node = (node as ActClaim).act;
  }
  return chain;
}

export const claims: Check = (state, deps) => {
  const p = state.payload!;
  const missing = REQUIRED.filter((name) => p[name] === undefined || p[name] === null);
  if (missing.length > 0) reject(state, 'missing_claim', `the token lacks ${missing.join(', ')}`);
  if (!isText(p.iss)) reject(state, 'malformed_token', 'iss must be a string');
  if (p.iss !== deps.issuer) reject(state, 'wrong_issuer', 'the token was not issued by this server');
  for (const name of ['sub', 'client_id', 'jti'] as const) {
    if (!isText(p[name])) reject(state, 'malformed_token', `${name} must be a non-empty string`);
  }
  const aud = p.aud;
  if (!(isText(aud) || (Array.isArray(aud) && aud.length > 0 && aud.every(isText)))) reject(state, 'malformed_token', 'aud must be a string or a list of strings');
  for (const name of ['iat', 'exp', 'nbf', 'auth_time'] as const) {
    if (p[name] !== undefined && !isTime(p[name])) reject(state, 'malformed_token', `${name} must be whole seconds since the epoch`);
  }
  if (p.scope !== undefined && typeof p.scope !== 'string') reject(state, 'malformed_token', 'scope must be a space-separated string');
  if (p.purpose !== undefined && typeof p.purpose !== 'string') reject(state, 'malformed_token', 'purpose must be a string');
  if (p.amr !== undefined && !(Array.isArray(p.amr) && p.amr.every((m) => typeof m === 'string'))) reject(state, 'malformed_token', 'amr must be a list of strings');
  if (p.roles !== undefined && !(Array.isArray(p.roles) && p.roles.every((m) => typeof m === 'string'))) reject(state, 'malformed_token', 'roles must be a list of strings');
  if (p.cnf !== undefined) {
    const cnf = p.cnf as { jkt?: unknown } | null;
    if (cnf === null || typeof cnf !== 'object' || Array.isArray(cnf) || !isText(cnf.jkt)) reject(state, 'malformed_token', 'cnf must carry a key thumbprint (jkt)');
  }
  state.actChain = actChainOf(state, p.act);
  state.claims = { ...p, scope: (p.scope as string | undefined) ?? '' } as unknown as AccessTokenClaims;
};
