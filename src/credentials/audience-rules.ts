import { CLASSIFICATIONS } from '../identity/index.js';
import type { AudienceResource, CredentialPrincipal } from './contracts.js';

// Whether a principal may address a resource for a purpose: the one rule tokens (token endpoint, exchange) and
// API keys share.
// - A resource that lists purposes is addressed only for one of them (a credential with no purpose: never).
// - Its classification must be within the principal's data ceiling, when the principal has one.
// Returns why not, or undefined when it may.

const RANK = new Map<string, number>(CLASSIFICATIONS.map((c, i) => [c, i]));

export function audienceRefusal(resource: AudienceResource, principal: Pick<CredentialPrincipal, 'dataCeiling'>, purpose: string | null): string | undefined {
  if (resource.purposes.length > 0 && (purpose === null || !resource.purposes.includes(purpose))) {
    return `resource '${resource.name}' may not be addressed for ${purpose === null ? 'an unstated purpose' : `purpose '${purpose}'`} (it serves ${resource.purposes.join(', ')})`;
  }
  if (principal.dataCeiling && (RANK.get(resource.classification) ?? Number.MAX_SAFE_INTEGER) > (RANK.get(principal.dataCeiling) ?? -1)) {
    return `resource '${resource.name}' is ${resource.classification}, above the principal's data ceiling (${principal.dataCeiling})`;
  }
  return undefined;
}
