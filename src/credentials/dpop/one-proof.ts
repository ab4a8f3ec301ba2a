import { invalidProof } from './reject.js';

// Check 1 of the DPoP table: the request carries exactly one proof (RFC 9449 §4.3 step 1).
//
// Rules:
// - No DPoP header → refused (the caller only asks when a proof is needed).
// - Two or more DPoP header values → refused, whatever they hold: which one is "the" proof is ambiguous.
// - A value containing a comma is a list (RFC 9110 §5.3 folds repeated headers with commas) and counts as two;
//   a compact JWS never contains one.
// - Surrounding whitespace is trimmed (an HTTP field value's optional whitespace); an empty value is no proof.

export function oneProof(values: readonly string[]): string {
  if (values.length === 0) throw invalidProof('no DPoP proof');
  if (values.length > 1) throw invalidProof('more than one DPoP header');
  const proof = values[0]!.trim();
  if (proof.includes(',')) throw invalidProof('more than one DPoP proof in the DPoP header');
  if (proof === '') throw invalidProof('no DPoP proof');
  return proof;
}
