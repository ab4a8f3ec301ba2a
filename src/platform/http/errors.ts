// RFC 9457 problem details with a stable machine-readable `code`, from one catalogue.
// Every error that reaches a client is an AppError whose code is a member of ERROR_CODES: the code fixes the
// HTTP status and title, so two places can never answer the same condition differently, the OpenAPI document
// lists each route's codes, and docs/errors.md is generated from this table (a test keeps them equal).

export interface ErrorSpec {
  status: number;
  title: string;
  /** When a client sees it and what to do: rendered into docs/errors.md. */
  meaning: string;
}

export const ERROR_CODES = {
  // Request shape
  validation_failed: { status: 400, title: 'Request is invalid', meaning: 'A parameter, query field or body field failed its schema; `errors` lists each problem with its location.' },
  malformed_json: { status: 400, title: 'Malformed JSON', meaning: 'The body is not valid JSON.' },
  invalid_cursor: { status: 400, title: 'Invalid cursor', meaning: 'The `cursor` was not issued by this server for this list; pass `next_cursor` from a previous page unchanged.' },
  bad_url: { status: 400, title: 'Malformed URL', meaning: 'The URL could not be decoded.' },
  bad_request: { status: 400, title: 'Bad request', meaning: 'The request was refused by the HTTP layer before reaching a route.' },
  body_too_large: { status: 413, title: 'Body too large', meaning: 'The body exceeds the 1 MiB limit.' },
  uri_too_long: { status: 414, title: 'URI too long', meaning: 'A path parameter is longer than the router accepts.' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type', meaning: 'Only `application/json` bodies are accepted.' },
  request_timeout: { status: 408, title: 'Request timeout', meaning: 'The request was not received completely in time; the connection is closed.' },
  headers_too_large: { status: 431, title: 'Request headers too large', meaning: 'The request headers exceed the server limit.' },
  route_not_found: { status: 404, title: 'No such route', meaning: 'No route matches the method and path.' },

  // Who is calling
  unauthenticated: { status: 401, title: 'Authentication required', meaning: 'No bearer token, or one that is malformed, unknown, expired or revoked, or whose principal is not active.' },
  forbidden: { status: 403, title: 'Forbidden', meaning: 'The caller is authenticated but its role or ownership does not allow this.' },
  invalid_dpop_proof: { status: 401, title: 'Invalid DPoP proof', meaning: 'The access token is bound to a key (DPoP, RFC 9449) and the request carried no valid `DPoP` proof for it; `WWW-Authenticate: DPoP` names the problem. A bound token is never accepted as a plain Bearer token.' },
  use_dpop_nonce: { status: 401, title: 'DPoP nonce required', meaning: 'Retry the request with a DPoP proof carrying the nonce from the `DPoP-Nonce` response header.' },
  insufficient_scope: { status: 403, title: 'Insufficient scope', meaning: 'The access token or API key is valid but its scopes do not cover this call (RFC 6750 §3.1).' },

  // Things that do not exist
  not_found: { status: 404, title: 'Not found', meaning: 'The addressed object does not exist (or is not visible to the caller).' },
  principal_not_found: { status: 422, title: 'Principal not found', meaning: 'A principal named in the body does not exist.' },
  team_not_found: { status: 422, title: 'Team not found', meaning: 'A team named in the body does not exist.' },
  parent_not_found: { status: 422, title: 'Parent not found', meaning: 'The parent resource named in the body does not exist.' },
  event_archived: { status: 410, title: 'Event pruned', meaning: 'The audit event was archived and pruned from the live log; the archive holds it.' },

  // Ownership and registry rules
  owner_required: { status: 422, title: 'Owner required', meaning: 'Non-human principals and resources need an accountable owner (a principal or a team).' },
  owner_ambiguous: { status: 422, title: 'Owner ambiguous', meaning: 'Give either an owning principal or an owning team, not both.' },
  owner_not_found: { status: 422, title: 'Owner not found', meaning: 'The owner named in the body does not exist.' },
  owner_not_active_human: { status: 422, title: 'Owner must be an active human', meaning: 'An owning principal must be an active human.' },
  principal_not_human: { status: 422, title: 'Principal is not human', meaning: 'Operator tokens are issued to humans only.' },
  principal_not_active: { status: 422, title: 'Principal not active', meaning: 'The principal must be active for this.' },
  principal_decommissioned: { status: 409, title: 'Principal decommissioned', meaning: 'A decommissioned principal cannot be changed.' },
  invalid_transition: { status: 409, title: 'Invalid lifecycle transition', meaning: 'The lifecycle does not allow this move; `allowed` lists the moves from the current status.' },
  name_taken: { status: 409, title: 'Name taken', meaning: 'Another object of this kind already has this name.' },
  version_mismatch: { status: 409, title: 'Version mismatch', meaning: 'The object changed since it was read (`If-Match`/`version`); read it again.' },
  parent_cycle: { status: 422, title: 'Parent cycle', meaning: 'The parent would make the resource hierarchy circular.' },
  hierarchy_too_deep: { status: 422, title: 'Hierarchy too deep', meaning: 'The resource hierarchy would exceed its depth limit.' },
  human_has_no_owner: { status: 422, title: 'Humans have no owners', meaning: 'A human principal is accountable for itself; owners are for non-human principals and resources.' },
  last_admin: { status: 409, title: 'Last administrator', meaning: 'The last active admin, or its last valid admin token, cannot be suspended, decommissioned or revoked; mint another admin first (or use `custos admin recover` on the host).' },
  resource_uri_taken: { status: 409, title: 'Resource URI taken', meaning: 'Another resource already uses this audience URI.' },

  // Credentials (signing keys, API keys, client keys and secrets, federation)
  ttl_too_long: { status: 422, title: 'Lifetime too long', meaning: 'The requested lifetime exceeds the maximum for the principal\'s kind and risk tier; `max_seconds` says what is allowed.' },
  purpose_not_allowed: { status: 422, title: 'Purpose not allowed', meaning: 'The purpose is not one of the principal\'s allowed purposes (or, with several, none was given).' },
  scope_not_allowed: { status: 422, title: 'Scope not allowed', meaning: 'A requested scope is not among the principal\'s approved scopes.' },
  target_not_allowed: { status: 422, title: 'Audience not allowed', meaning: 'A requested audience is not a registered resource the principal may address.' },
  principal_cannot_hold_credentials: { status: 422, title: 'Principal cannot hold this credential', meaning: 'The principal is not active, or of a kind that cannot hold this credential.' },
  invalid_jwk: { status: 422, title: 'Invalid public key', meaning: 'The key is not a public asymmetric JWK (OKP Ed25519, EC P-256/P-384 or RSA of 2048 bits or more) with a usable algorithm; private members are refused.' },
  key_already_registered: { status: 409, title: 'Key already registered', meaning: 'A key with this thumbprint is already registered for the principal.' },
  invalid_federation: { status: 422, title: 'Invalid federation settings', meaning: 'The trusted issuer needs an https issuer, exactly one of a JWKS URL or an inline JWKS, an audience, asymmetric algorithms, and mappings to existing principals.' },
  invalid_identity_provider: { status: 422, title: 'Invalid identity provider settings', meaning: 'The identity provider needs an https issuer (plain http only to 127.0.0.1, [::1] or localhost) not configured twice, a client secret for client_secret_basic/client_secret_post and none for private_key_jwt, scopes including openid, and a groups claim for group mappings; `detail` says which rule failed.' },
  signing_key_unavailable: { status: 503, title: 'No signing key', meaning: 'The token-signing key could not be loaded or created; no token was issued.' },
  credential_already_revoked: { status: 409, title: 'Already revoked', meaning: 'The credential was revoked before; nothing changed.' },

  // Authorization: policies, grants, device posture
  invalid_policy: { status: 422, title: 'Invalid policy', meaning: 'The Cedar policies do not parse or do not validate against the Custos schema (strict mode, extended by the version\'s application schema), or the test cases are not valid; `errors` lists each problem with `line`, `column` and the policy\'s id (or the test case\'s name).' },
  policy_tests_failed: { status: 422, title: 'Policy tests failed', meaning: 'Activation refused: a test case of the version did not get its expected decision; `failures` lists them with their reasons. The previously active version stays active.' },
  resource_not_found: { status: 422, title: 'Resource not found', meaning: 'A resource named in the body does not exist.' },
  grant_too_long: { status: 422, title: 'Grant too long', meaning: 'A grant ends between 60 seconds and 90 days from now; `max_seconds` says the longest allowed.' },
  grant_already_revoked: { status: 409, title: 'Grant already revoked', meaning: 'The grant was revoked before; nothing changed.' },
  authz_unavailable: { status: 503, title: 'Decision point unavailable', meaning: 'The policy engine failed and cannot be trusted; every decision is refused until the server restarts (`/readyz` says so).' },
  invalid_posture_issuer: { status: 422, title: 'Invalid posture issuer settings', meaning: 'A posture issuer needs an https issuer (plain http only to a loopback host) not configured twice, exactly one of an inline public JWKS or a JWKS URL, and a freshness window; at most 64 issuers. `detail` says which rule failed.' },

  // Approvals: access requests, separation of duties, break-glass, access reviews, webhooks
  request_not_pending: { status: 409, title: 'Request not pending', meaning: 'The access request was already approved, denied, cancelled or expired (`status` says which); approvals, denials and edits are refused.' },
  request_changed: { status: 409, title: 'Request changed', meaning: 'The request was edited since the approver read it: `request_hash` in the body is not the current one (`current_hash`). Approvals are bound to the request\'s hash; read it again and decide on what it now says.' },
  self_approval: { status: 403, title: 'Self-approval refused', meaning: 'Nobody approves a request they filed or are answerable for, nor one filed by or for an agent they own or through a token delegated to or by them. No setting turns this off.' },
  approver_not_human: { status: 403, title: 'Approver must be a person', meaning: 'Only a human acting directly (no delegated token) approves or denies; agents, service accounts and every other non-human principal never do.' },
  approver_not_eligible: { status: 403, title: 'Not an eligible approver', meaning: 'The request\'s approval rule needs approvers from a group the caller is not in (`needs` lists what is still missing), or a conflicting-role pair excludes the caller; admins are approvers like anyone else.' },
  already_decided: { status: 409, title: 'Already decided', meaning: 'This person has already approved or denied this revision of the request; one person counts once however many roles, teams or tokens they hold.' },
  request_too_long: { status: 422, title: 'Requested duration too long', meaning: 'The duration is longer than the approval rule for the resources\' risk tier allows; `max_seconds` says the longest.' },
  approval_required: { status: 403, title: 'Approval required', meaning: 'Direct grants stop at medium risk: access to a high or critical resource (or one with such resources below it, or a classification that raises it there) is granted only through an approved access request (`custos request create`). Admins are approvers like anyone else, not a way around the rules.' },
  registration_required: { status: 409, title: 'Registration approval required', meaning: 'A high or critical risk principal becomes active only through an approved registration request (`custos request create --register`), not by a direct activation.' },
  break_glass_not_allowed: { status: 403, title: 'Break-glass not allowed', meaning: 'Only members of the configured break-glass team open break-glass access, for themselves, as people.' },
  break_glass_too_long: { status: 422, title: 'Break-glass too long', meaning: 'Break-glass access lasts at most the configured maximum (default one hour); `max_seconds` says it.' },
  review_not_open: { status: 409, title: 'Review not open', meaning: 'The post-incident review, campaign or review item is already closed or decided.' },
  self_review: { status: 403, title: 'Own review refused', meaning: 'The person who used break-glass access, or who owns the principal under review as its requester, cannot close their own review.' },
  invalid_approval_settings: { status: 422, title: 'Invalid approval settings', meaning: 'The approval rules document breaks a rule (every tier covered, low may only auto-approve, critical needs two distinct approvers one from security, durations whole seconds of at least 60); `detail` says which.' },
  invalid_webhook_url: { status: 422, title: 'Invalid webhook URL', meaning: 'Webhook URLs are https, or plain http only to a loopback address (127.0.0.0/8, [::1], localhost); no user information or fragment.' },

  // Gateway: upstreams and limits
  invalid_upstream: { status: 422, title: 'Invalid upstream', meaning: 'The upstream breaks a rule: a known provider, an https base URL (plain http only to a loopback or private address for local servers), no user information, timeouts and retries within bounds, model aliases naming model resources; `detail` says which.' },
  upstream_not_found: { status: 422, title: 'Upstream not found', meaning: 'An upstream named in the body does not exist.' },
  model_already_routed: { status: 409, title: 'Model already routed', meaning: 'The model resource is already served by another upstream; remove that alias first.' },
  invalid_mcp_server: { status: 422, title: 'Invalid MCP server', meaning: 'The MCP server registration breaks a rule: a name usable in a URL path and a resource name, an https upstream URL (plain http only to a loopback or private address), an owner that is a person, upstream credentials in a known form; `detail` says which.' },
  mcp_server_exists: { status: 409, title: 'MCP server exists', meaning: 'An MCP server with this name is already registered.' },
  mcp_upstream_unreachable: { status: 502, title: 'MCP upstream unreachable', meaning: 'The registered MCP server did not answer its tool list (refresh); `detail` says what failed. Nothing was changed.' },
  invalid_limit: { status: 422, title: 'Invalid limit', meaning: 'A limit names an existing principal, team or resource and at least one positive whole number (requests or tokens per minute, tokens per day or month).' },

  resource_in_use: { status: 409, title: 'Resource in use', meaning: 'The resource is still named by grants, access requests or gateway model routes, which are kept as evidence or are still in force; it cannot be deleted.' },
  resource_has_children: { status: 409, title: 'Resource has children', meaning: 'Delete or move the child resources first.' },

  // Sign-in: OAuth clients for people
  invalid_client_metadata: { status: 400, title: 'Invalid client metadata', meaning: 'An OAuth client registration or change is refused: a redirect URI breaks the rules (absolute, no fragment or user information; https, or plain http only to 127.0.0.1, [::1] or localhost, or a private-use scheme in reverse-domain form such as com.example.app), a grant type public clients cannot use, refresh_token without authorization_code or the device grant, authorization_code without a redirect URI, or the built-in client\'s name; `field` names the member and `detail` the rule.' },
  builtin_client: { status: 409, title: 'Built-in client', meaning: 'The client `custos-cli` (the Custos CLI) is part of the server: it can be shown but not changed or deleted.' },

  // Audit log
  seq_out_of_range: { status: 422, title: 'Sequence number out of range', meaning: 'The sequence number is beyond the log.' },
  tree_size_too_large: { status: 422, title: 'Tree size too large', meaning: 'The requested tree size is beyond the latest signed checkpoint.' },
  bad_tree_sizes: { status: 422, title: 'Bad tree sizes', meaning: 'A consistency proof needs 0 < first ≤ second ≤ the latest signed size.' },
  no_checkpoint: { status: 409, title: 'No checkpoint yet', meaning: 'No signed checkpoint exists yet; retry after the next checkpoint interval.' },
  audit_integrity_failed: { status: 503, title: 'Audit log integrity failure', meaning: 'The stored audit log does not match its own latest signed checkpoint (edited, missing or truncated events). Governed writes are refused until an operator runs `custos audit recover`, which records what was found.' },
  recovery_not_needed: { status: 409, title: 'No recovery needed', meaning: 'The audit log verifies against its checkpoints; there is nothing to recover.' },
  archive_empty: { status: 422, title: 'Nothing to archive', meaning: 'The requested archive range holds no events.' },
  archive_unaligned: { status: 422, title: 'Archive not aligned', meaning: 'An archive must start where the previous prune ended.' },
  archive_too_recent: { status: 422, title: 'Archive too recent', meaning: 'Only events covered by a signed checkpoint can be archived.' },
  archive_mismatch: { status: 409, title: 'Archive mismatch', meaning: 'The archive does not match the live log.' },
  archive_digest_mismatch: { status: 409, title: 'Archive digest mismatch', meaning: 'Pruning needs the digest of the archive that covers the range.' },

  // The server's own state
  store_unavailable: { status: 503, title: 'Store unavailable', meaning: 'The database could not be reached or failed; nothing was changed. Retry later.' },
  audit_unavailable: { status: 503, title: 'Audit log unavailable', meaning: 'The change could not be recorded in the audit log, so it was not made.' },
  internal_error: { status: 500, title: 'Internal error', meaning: 'A bug: the server log holds the request id.' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail?: string;
  instance?: string;
  [extension: string]: unknown;
}

export const PROBLEM_TYPE_BASE = 'https://custos.dev/problems/';

export class AppError extends Error {
  readonly status: number;
  readonly code: ErrorCode;
  readonly title: string;
  readonly extensions: Record<string, unknown>;
  /** Response headers the error needs beyond the body (a DPoP-Nonce, a WWW-Authenticate challenge). */
  headers: Record<string, string> = {};

  constructor(code: ErrorCode, detail: string, extensions: Record<string, unknown> = {}) {
    super(detail);
    this.name = 'AppError';
    const spec: ErrorSpec = ERROR_CODES[code];
    this.status = spec.status;
    this.code = code;
    this.title = spec.title;
    this.extensions = extensions;
  }

  toProblem(instance?: string): ProblemDetails {
    return {
      type: `${PROBLEM_TYPE_BASE}${this.code}`,
      title: this.title,
      status: this.status,
      code: this.code,
      detail: this.message,
      ...(instance ? { instance } : {}),
      ...this.extensions,
    };
  }
}

/** Shorthands for the codes thrown from many places. */
export const errors = {
  validation: (detail: string, issues?: unknown) =>
    new AppError('validation_failed', detail, issues === undefined ? {} : { errors: issues }),
  unauthenticated: (detail = 'A valid bearer token is required') => new AppError('unauthenticated', detail),
  forbidden: (detail: string) => new AppError('forbidden', detail),
  notFound: (what: string, id: string) => new AppError('not_found', `${what} '${id}' does not exist`),
};
