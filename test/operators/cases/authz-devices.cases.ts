import crypto from 'node:crypto';
import { ownedAgent, readers, staff, type RouteCase, type World } from './shared.js';

// The devices part of the authorization module: /v1/posture-issuers (MDM/EDR systems whose signed posture assertions
// are trusted) and /v1/devices (posture records). Admin and security change them (device.write), admin, security and
// auditors read them (device.read); owners see none of it.

const PUBLIC_JWK = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });

function issuerBody(w: World) {
  const name = w.uniq('mdm');
  return { name, issuer: `https://${name}.example.com`, jwks: { keys: [{ ...PUBLIC_JWK, kid: 'k1', alg: 'ES256' }] }, max_age_seconds: 600, reason: 'matrix' };
}

async function postureIssuer(w: World): Promise<string> {
  return (await w.admin('POST', '/v1/posture-issuers', issuerBody(w))).name as string;
}

async function device(w: World): Promise<string> {
  const id = w.uniq('laptop');
  await w.admin('PUT', `/v1/devices/${id}`, { principal: await ownedAgent(w), posture: 'compliant', valid_for_seconds: 3600 });
  return id;
}

export const AUTHZ_DEVICES_ROUTE_CASES: Record<string, RouteCase> = {
  'POST /v1/posture-issuers': { expect: staff, build: async (w) => ({ method: 'POST', url: '/v1/posture-issuers', body: issuerBody(w) }) },
  'GET /v1/posture-issuers': { expect: readers, build: async () => ({ method: 'GET', url: '/v1/posture-issuers?limit=5' }) },
  'GET /v1/posture-issuers/{ref}': { expect: readers, build: async (w) => ({ method: 'GET', url: `/v1/posture-issuers/${await postureIssuer(w)}` }) },
  'DELETE /v1/posture-issuers/{ref}': {
    expect: staff,
    build: async (w) => ({ method: 'DELETE', url: `/v1/posture-issuers/${await postureIssuer(w)}?reason=matrix` }),
  },
  'POST /v1/devices': {
    expect: staff,
    build: async (w) => ({ method: 'POST', url: '/v1/devices', body: { device_id: w.uniq('laptop'), principal: await ownedAgent(w), posture: 'noncompliant', details: { os: 'linux' } } }),
  },
  'PUT /v1/devices/{device_id}': {
    expect: staff,
    build: async (w) => ({ method: 'PUT', url: `/v1/devices/${await device(w)}`, body: { principal: await ownedAgent(w), posture: 'compliant', reason: 'matrix' } }),
  },
  'GET /v1/devices': { expect: readers, build: async () => ({ method: 'GET', url: '/v1/devices?limit=5' }) },
  'GET /v1/devices/{device_id}': { expect: readers, build: async (w) => ({ method: 'GET', url: `/v1/devices/${await device(w)}` }) },
  'DELETE /v1/devices/{device_id}': { expect: staff, build: async (w) => ({ method: 'DELETE', url: `/v1/devices/${await device(w)}?reason=matrix` }) },
};
