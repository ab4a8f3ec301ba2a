// The one object that says who is acting, passed to every service call instead of loose strings.

export const OPERATOR_ROLES = ['admin', 'security', 'auditor', 'owner'] as const;
export type OperatorRole = (typeof OPERATOR_ROLES)[number];

export interface Provenance {
  sourceIp: string | null;
  requestId: string | null;
  traceId: string | null;
  userAgent: string | null;
}

export interface Actor {
  /** The principal acting; null only for the system itself (startup, background jobs). */
  principalId: string | null;
  principalName: string | null;
  credentialId: string | null;
  authMethod: 'operator_token' | 'system' | 'cli_local';
  role: OperatorRole | null;
  /** Teams the principal belongs to (ownership through a team). */
  teamIds: string[];
  /** Outermost first: the principals on whose behalf this actor acts. Empty for direct calls. */
  delegationChain: string[];
  provenance: Provenance;
}

export const NO_PROVENANCE: Provenance = { sourceIp: null, requestId: null, traceId: null, userAgent: null };

export function systemActor(reason: 'startup' | 'background' | 'cli_local' = 'background'): Actor {
  return {
    principalId: null,
    principalName: `system:${reason}`,
    credentialId: null,
    authMethod: reason === 'cli_local' ? 'cli_local' : 'system',
    role: 'admin',
    teamIds: [],
    delegationChain: [],
    provenance: NO_PROVENANCE,
  };
}
