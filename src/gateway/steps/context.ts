import { factsFromActor } from '../../authz/index.js';
import type { Step } from '../pipeline.js';

// Step: the facts the decision point decides on, from the verified credential and the connection only: purpose,
// delegation chain, credential kind and DPoP binding, token age, source address, and that the call reached us
// through the gateway. Nothing a client sends in its body or headers (beyond its credential) becomes a fact; in
// particular the purpose is the one bound to the credential at issuance.

export const context: Step = async (call) => {
  call.facts = factsFromActor(call.actor!);
};
