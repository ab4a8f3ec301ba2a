// RequestFacts from a verified Actor (pure): what an enforcement point that verified the caller itself (the
// gateway, the management API, a principal asking the AuthZEN API about itself) hands the decision point.
import type { Actor } from '../platform/actor.js';
import type { RequestFacts } from './contracts.js';

export function factsFromActor(actor: Actor, extra: Pick<RequestFacts, 'device' | 'risk'> = {}): RequestFacts {
  const kind = actor.credential?.kind;
  return {
    purpose: actor.purpose,
    delegationChain: actor.delegationChain.map((l) => l.principalId),
    authMethod: actor.authMethod,
    credentialKind: kind === 'access_token' || kind === 'api_key' || kind === 'operator_token' ? kind : 'none',
    dpopBound: actor.binding?.method === 'dpop',
    issuedAt: actor.credential?.issuedAt ? new Date(actor.credential.issuedAt) : null,
    sourceIp: actor.provenance.sourceIp,
    via: actor.provenance.via,
    workloadId: null,
    ...extra,
  };
}
