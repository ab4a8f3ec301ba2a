import { KeyObject, type webcrypto } from 'node:crypto';
import { compactVerify, decodeJwt, decodeProtectedHeader, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { signAccessToken } from './access-token.js';
import type { AccessTokenClaims, SigningAlg } from './contracts.js';

// An access token carries exactly the claims given, under the header { alg: the key's, kid, typ: 'at+jwt' }.

const claims: AccessTokenClaims = {
  iss: 'https://custos.test', sub: 'p-1', aud: ['https://api.test/'], client_id: 'p-1', scope: 'model:invoke', purpose: 'support',
  jti: 'j-1', iat: 1_800_000_000, exp: 1_800_000_600, auth_time: 1_800_000_000, cnf: { jkt: 'thumb' }, act: { sub: 'p-2' }, amr: ['federated'],
};

describe('signAccessToken', () => {
  for (const alg of ['EdDSA', 'ES256'] as SigningAlg[]) {
    it(`signs with ${alg}: header alg, kid and typ at+jwt only; the claims unchanged`, async () => {
      const pair = await generateKeyPair(alg);
      const token = await signAccessToken({ kid: 'kid-1', alg, privateKey: KeyObject.from(pair.privateKey as webcrypto.CryptoKey) }, claims);
      expect(decodeProtectedHeader(token)).toEqual({ alg, kid: 'kid-1', typ: 'at+jwt' });
      expect(decodeJwt(token)).toEqual(claims);
      await expect(compactVerify(token, pair.publicKey, { algorithms: [alg] })).resolves.toBeTruthy();
    });
  }
});
