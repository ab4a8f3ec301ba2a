import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemActor } from '../../platform/actor.js';
import { newId } from '../../platform/ids.js';
import { createKeyRing, generateMasterKey } from '../../platform/keys.js';
import { BACKENDS, postgresReachable } from '../../../test/support/backends.js';
import { openStoreFixture, type StoreFixture } from '../../../test/support/credentials-store.js';
import { OAuthError } from '../oauth-errors.js';
import { createReplayStore } from '../replay-store.js';
import * as revocations from '../revocations.repo.js';
import { createSigningKeyStore } from '../signing-keys.service.js';
import * as tokens from '../tokens.repo.js';
import { createTokenIssuer, type IssueRequest } from './issue.js';

// The issue step's own rules, on both stores: the token's record and audit event commit with it, and a parent
// or a credential revoked between the checks and the commit stops the token.

for (const backend of BACKENDS) {
  describe(`issue (${backend})`, async () => {
    const enabled = backend === 'sqlite' || (await postgresReachable());
    let f: StoreFixture;
    let issue: ReturnType<typeof createTokenIssuer>;
    const request = (over: Partial<IssueRequest> = {}): IssueRequest => ({
      actor: systemActor('background'), sub: { id: 'p-1', name: 'bot' }, clientId: 'p-1', scope: ['a'], audience: ['https://issuer.test'],
      purpose: 'support', exp: Math.floor(f.clock.now().getTime() / 1000) + 900, authTime: Math.floor(f.clock.now().getTime() / 1000), jkt: null,
      actors: [], parent: null, grantType: 'client_credentials', authMethod: 'client_secret', credentialId: 'cred-1', ...over,
    });

    beforeAll(async () => {
      if (!enabled) return;
      f = await openStoreFixture(backend);
      const keys = createSigningKeyStore({ db: f.db, keys: createKeyRing(generateMasterKey()), audit: f.audit, clock: f.clock, alg: 'EdDSA', rotationDays: 30, maxTokenLifetimeSeconds: 3600 });
      issue = createTokenIssuer({ db: f.db, audit: f.audit, keys, clock: f.clock, newId, issuer: () => 'https://issuer.test', replay: createReplayStore({ db: f.db, clock: f.clock }) });
    });
    afterAll(async () => f?.close());

    it.runIf(enabled)('records the token (never the token itself) and its audit event with it', async () => {
      const issued = await issue(request());
      const jti = decodeJwt(issued.access_token).jti as string;
      const row = await tokens.findToken(f.db.kysely, jti);
      expect(row).toMatchObject({ principal_id: 'p-1', credential_id: 'cred-1', scope: 'a', depth: 0, family_id: jti });
      expect(JSON.stringify(row)).not.toContain(issued.access_token);
      const events = await f.events('credential.token.issued');
      expect(events.map((e) => e.target?.id)).toContain(jti);
    });

    it.runIf(enabled)('refuses when the client\'s credential was revoked after it authenticated, writing nothing', async () => {
      await f.db.write((trx) => revocations.insertRevocations(trx, [{ kind: 'credential', target: 'cred-2', revoked_at: f.clock.now().toISOString(), not_before: null, forget_after: null }]));
      const before = (await f.events('credential.token.issued')).length;
      const refused = await issue(request({ credentialId: 'cred-2' })).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(OAuthError);
      expect((refused as OAuthError).code).toBe('invalid_client');
      expect((await f.events('credential.token.issued')).length).toBe(before);
      expect((await issue(request({ credentialId: 'cred-3' }))).access_token).toBeTruthy();
    });
  });
}
