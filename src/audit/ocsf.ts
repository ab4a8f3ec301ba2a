// An OCSF-style rendering of an audit event for SIEMs (API Activity class, with the original event kept in
// `unmapped` so nothing is lost). Pure function.

const OCSF_VERSION = '1.3.0';
const API_ACTIVITY = 6003;

export function toOcsf(event: Record<string, any>): Record<string, unknown> {
  const failed = event.outcome === 'failure' || event.decision === 'deny';
  return {
    category_uid: 6,
    class_uid: API_ACTIVITY,
    activity_id: 99,
    type_uid: API_ACTIVITY * 100 + 99,
    activity_name: event.type,
    time: Date.parse(event.time),
    severity_id: failed ? 3 : 1,
    status: failed ? 'Failure' : 'Success',
    status_id: failed ? 2 : 1,
    status_detail: (event.reasons ?? []).join('; ') || undefined,
    message: `${event.type} by ${event.actor?.principal_name ?? event.actor?.principal_id ?? 'system'}`,
    metadata: {
      version: OCSF_VERSION,
      uid: event.id,
      sequence: event.seq,
      log_name: 'custos-audit',
      product: { name: 'Custos', vendor_name: 'Custos' },
      correlation_uid: event.provenance?.request_id ?? undefined,
    },
    actor: {
      user: { uid: event.actor?.principal_id ?? undefined, name: event.actor?.principal_name ?? undefined },
      authorizations: event.decision ? [{ decision: event.decision, policy: { version: event.policy_version ?? undefined } }] : undefined,
      session: event.actor?.credential_id ? { uid: event.actor.credential_id } : undefined,
    },
    api: { operation: event.action, request: { uid: event.provenance?.request_id ?? undefined } },
    src_endpoint: { ip: event.provenance?.source_ip ?? undefined },
    http_request: { user_agent: event.provenance?.user_agent ?? undefined },
    resources: event.target ? [{ type: event.target.type, uid: event.target.id ?? undefined, name: event.target.name ?? undefined }] : [],
    unmapped: event,
  };
}
