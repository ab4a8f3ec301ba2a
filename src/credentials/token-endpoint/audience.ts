import { audienceRefusal } from '../audience-rules.js';
import type { CredentialDirectory, CredentialPrincipal } from '../contracts.js';
import { OAuthError } from '../oauth-errors.js';

// Step: the audiences a token will carry, from RFC 8707 `resource` indicators (and RFC 8693 `audience` names).
// Rules:
// - Each indicator is the server's own issuer URL (the management and decision API), or a registered resource:
//   by its URI, by `urn:custos:resource:<name>`, or by its bare name. Anything else is invalid_target.
// - The principal may address a resource only for a purpose the resource allows (when it lists purposes) and
//   only when its classification is within the principal's data ceiling (when it has one): else invalid_target.
// - No indicator: the token is for the management API alone (aud = issuer).

export async function resolveAudiences(
  indicators: string[], ctx: { directory: CredentialDirectory; issuer: string; principal: CredentialPrincipal; purpose: string | null },
): Promise<string[]> {
  const out: string[] = [];
  for (const indicator of indicators) {
    if (indicator.includes('#')) throw new OAuthError('invalid_target', 'a resource indicator must not contain a fragment');
    if (indicator.replace(/\/+$/, '') === ctx.issuer) {
      out.push(ctx.issuer);
      continue;
    }
    const resource = await ctx.directory.resourceByIndicator(indicator);
    if (!resource) throw new OAuthError('invalid_target', `resource '${indicator.slice(0, 200)}' is not registered`);
    const refusal = audienceRefusal(resource, ctx.principal, ctx.purpose);
    if (refusal) throw new OAuthError('invalid_target', refusal);
    out.push(resource.audience);
  }
  return out.length ? [...new Set(out)] : [ctx.issuer];
}
