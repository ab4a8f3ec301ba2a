import type { Clock } from '../../platform/clock.js';
import type { IdGenerator } from '../../platform/ids.js';
import type { KeyRing } from '../../platform/keys.js';
import type { Database } from '../../platform/store/db.js';
import type { CredentialDirectory } from '../../credentials/index.js';
import type { IdentityProviderRecord, IdpClient, OperatorTokenSignin, PeopleDirectory } from '../contracts.js';
import type { SessionService } from '../sessions.service.js';

// What the sign-in grants (authorization_code, device_code, refresh_token) need: they run in the credentials
// module's token endpoint table (client binding by DPoP, then the grant, then `issue`), with these of their own.

export interface PersonGrantDeps {
  db: Database;
  clock: Clock;
  newId: IdGenerator;
  keys: KeyRing;
  issuer: () => string;
  directory: CredentialDirectory;
  sessions: SessionService;
  idps: { load(ref: string): Promise<IdentityProviderRecord | undefined> };
  idpClient: IdpClient;
  people: PeopleDirectory;
  operatorTokens: OperatorTokenSignin;
}

/** Device polling interval (RFC 8628 §3.2), seconds. */
export const DEVICE_POLL_SECONDS = 5;
