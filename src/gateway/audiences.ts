import type { AudienceResource, CredentialDirectory } from '../credentials/index.js';
import type { Trx } from '../platform/store/db.js';

// The gateway as an audience of Custos tokens and API keys (RFC 8707). The token endpoint and API-key issuance
// resolve resource indicators through the credentials directory; this wraps it so that, beside registered
// resources, it also knows:
// - the gateway's public base URL: the model API (any principal may ask for a token for it — whether it may
//   invoke a model is the decision point's per call, on the model's own classification and purposes);
// - an MCP endpoint `<gateway>/mcp/<server>` of a registered server (the MCP part answers for those).
// A registered resource whose URI happens to equal one of these keeps precedence: the registry is asked first.

export const GATEWAY_AUDIENCE_NAME = 'custos-gateway';

export function withGatewayAudiences(
  directory: CredentialDirectory, gatewayUrl: () => string, others: (indicator: string, trx?: Trx) => Promise<AudienceResource | undefined>,
): CredentialDirectory {
  return {
    ...directory,
    async resourceByIndicator(indicator, trx) {
      const registered = await directory.resourceByIndicator(indicator, trx);
      if (registered) return registered;
      const base = gatewayUrl();
      if (!base) return undefined;
      if (indicator.replace(/\/+$/, '') === base) {
        return { id: GATEWAY_AUDIENCE_NAME, name: GATEWAY_AUDIENCE_NAME, kind: 'endpoint', audience: base, purposes: [], classification: 'public', serverPrincipalId: null };
      }
      // In the caller's transaction when it gave one: a read beside an open write transaction would wait for it.
      return indicator.startsWith(`${base}/`) ? others(indicator, trx) : undefined;
    },
  };
}
