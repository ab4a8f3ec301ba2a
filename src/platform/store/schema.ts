// Row types for every table, shared by Kysely on SQLite and PostgreSQL.
// Portable choices: timestamps are ISO-8601 UTC text, booleans are 0/1 integers, lists and maps are JSON text.
import type { Generated } from 'kysely';

export interface MetaTable {
  key: string;
  value: string;
}

export interface PrincipalsTable {
  id: string;
  name: string;
  kind: string;
  display_name: string | null;
  description: string | null;
  status: string;
  owner_principal_id: string | null;
  owner_team_id: string | null;
  team_id: string | null;
  scopes: string;
  purposes: string;
  autonomy: string | null;
  platform: string | null;
  framework: string | null;
  environment: string | null;
  data_ceiling: string | null;
  risk_tier: string;
  external_ids: string;
  labels: string;
  orphaned: number;
  review_due_at: string | null;
  status_reason: string | null;
  /** JSON list of principal ids and `kind:<kind>` entries this principal may delegate to (token exchange). */
  may_delegate_to: string;
  created_at: string;
  created_by: string | null;
  updated_at: string;
  version: number;
}

export interface LabelsTable {
  entity_id: string;
  key: string;
  value: string;
}

export interface TeamsTable {
  id: string;
  name: string;
  display_name: string | null;
  description: string | null;
  created_at: string;
  updated_at: string;
}

export interface TeamMembersTable {
  team_id: string;
  principal_id: string;
  role: string;
  added_at: string;
  /** The identity provider that maintains this membership from groups; null when added by hand. */
  managed_by: string | null;
}

export interface ResourcesTable {
  id: string;
  name: string;
  kind: string;
  display_name: string | null;
  description: string | null;
  owner_principal_id: string | null;
  owner_team_id: string | null;
  classification: string;
  risk_tier: string;
  purposes: string;
  labels: string;
  parent_id: string | null;
  /** The audience identifier (RFC 8707 resource indicator) tokens for this resource carry, when it has one. */
  uri: string | null;
  /** The principal that serves this resource: it may introspect tokens addressed to it. */
  server_principal_id: string | null;
  created_at: string;
  updated_at: string;
}

export interface OperatorTokensTable {
  id: string;
  principal_id: string;
  role: string;
  description: string | null;
  secret_hash: string;
  created_at: string;
  created_by: string | null;
  expires_at: string;
  revoked_at: string | null;
  revoked_reason: string | null;
  last_used_at: string | null;
}

export interface AuditEventsTable {
  seq: number;
  id: string;
  time: string;
  type: string;
  actor_principal_id: string | null;
  actor_credential_id: string | null;
  target_type: string | null;
  target_id: string | null;
  decision: string | null;
  outcome: string;
  /** The exact bytes that were hashed into the Merkle leaf (RFC 8785 canonical JSON). */
  canonical: string;
  /** Hex SHA-256(0x00 || canonical). */
  leaf_hash: string;
}

export interface AuditDelegationTable {
  seq: number;
  principal_id: string;
}

export interface AuditCheckpointsTable {
  tree_size: number;
  root_hash: string;
  time: string;
  note: string;
}

export interface AuditNodesTable {
  level: number;
  idx: number;
  hash: string;
}

export interface FindingsTable {
  id: string;
  fingerprint: string;
  rule_id: string;
  provider: string;
  severity: string;
  status: string;
  liveness: string;
  public_repo: number;
  pushed_image: number;
  priority_score: number;
  redacted: string;
  source_kind: string;
  target: string;
  location: string;
  locations_seen: number;
  credential_kind: string | null;
  credential_id: string | null;
  credential_owner_id: string | null;
  note: string | null;
  first_seen_at: string;
  last_seen_at: string;
  updated_at: string;
  updated_by: string | null;
}

export interface SigningKeysTable {
  kid: string;
  alg: string;
  public_jwk: string;
  private_sealed: string;
  status: 'active' | 'retiring' | 'retired';
  created_at: string;
  rotate_at: string;
  deactivated_at: string | null;
  verify_until: string | null;
  retired_at: string | null;
}

export interface OAuthTokensTable {
  jti: string;
  principal_id: string;
  client_id: string;
  family_id: string;
  parent_jti: string | null;
  depth: number;
  grant_type: string;
  auth_method: string;
  /** The client secret, client key or API key the token was obtained with (revoking it revokes the token). */
  credential_id: string | null;
  /** Space-separated scopes. */
  scope: string;
  /** JSON list of audiences. */
  audience: string;
  purpose: string | null;
  jkt: string | null;
  /** JSON list of the principal ids of the `act` chain, outermost first. */
  act_chain: string;
  kid: string;
  issued_at: string;
  expires_at: string;
  revoked_at: string | null;
  revoked_reason: string | null;
}

export interface ApiKeysTable {
  id: string;
  principal_id: string;
  description: string | null;
  secret_hash: string;
  /** Space-separated scopes. */
  scope: string;
  /** JSON list of audiences. */
  audience: string;
  purpose: string | null;
  created_at: string;
  created_by: string | null;
  expires_at: string;
  revoked_at: string | null;
  revoked_reason: string | null;
  last_used_at: string | null;
  replaced_by: string | null;
}

export interface ClientSecretsTable {
  id: string;
  principal_id: string;
  secret_hash: string;
  description: string | null;
  created_at: string;
  created_by: string | null;
  expires_at: string;
  revoked_at: string | null;
  revoked_reason: string | null;
  last_used_at: string | null;
  replaced_by: string | null;
}

export interface ClientKeysTable {
  id: string;
  principal_id: string;
  kid: string | null;
  alg: string;
  /** Public JWK (JSON). */
  jwk: string;
  /** RFC 7638 thumbprint. */
  thumbprint: string;
  description: string | null;
  created_at: string;
  created_by: string | null;
  expires_at: string | null;
  removed_at: string | null;
  last_used_at: string | null;
}

export interface FederationIssuersTable {
  id: string;
  name: string;
  issuer: string;
  jwks_url: string | null;
  /** Inline JWKS (JSON) when no URL is configured. */
  jwks: string | null;
  audience: string;
  /** JSON list of accepted JWS algorithms. */
  algorithms: string;
  /** JSON list of { principal_id, claims: { name: value | [values] } }. */
  mappings: string;
  max_token_age_seconds: number | null;
  created_at: string;
  created_by: string | null;
  updated_at: string;
}

export interface ReplayCacheTable {
  key_hash: string;
  kind: string;
  expires_at: string;
}

export interface RevocationsTable {
  version: Generated<number>;
  kind: 'token' | 'family' | 'credential' | 'principal';
  target: string;
  revoked_at: string;
  not_before: string | null;
  forget_after: string | null;
}

export interface IdentityProvidersTable {
  id: string;
  name: string;
  display_name: string | null;
  issuer: string;
  client_id: string;
  client_auth: 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';
  client_secret_sealed: string | null;
  private_key_sealed: string | null;
  public_jwk: string | null;
  scopes: string;
  subject_claim: string;
  groups_claim: string | null;
  group_roles: string;
  group_teams: string;
  new_principal_status: 'proposed' | 'active';
  created_at: string;
  created_by: string | null;
  updated_at: string;
}

export interface ExternalIdentitiesTable {
  idp_id: string;
  subject: string;
  principal_id: string;
  email: string | null;
  created_at: string;
  last_sign_in_at: string;
}

export interface OAuthClientsTable {
  client_id: string;
  name: string;
  kind: 'registered' | 'dynamic';
  redirect_uris: string;
  grant_types: string;
  scope: string | null;
  created_at: string;
  created_by: string | null;
}

export interface SigninRequestsTable {
  id: string;
  kind: 'authorize' | 'device';
  client_id: string;
  request: string;
  browser_hash: string | null;
  upstream_sealed: string | null;
  principal_id: string | null;
  auth: string | null;
  upstream_refresh_sealed: string | null;
  status: 'pending' | 'authenticated' | 'approved' | 'denied' | 'done';
  code_hash: string | null;
  device_code_hash: string | null;
  user_code: string | null;
  last_polled_at: string | null;
  session_id: string | null;
  requester: string | null;
  created_at: string;
  expires_at: string;
}

export interface SigninSessionsTable {
  id: string;
  principal_id: string;
  client_id: string;
  auth_method: 'federated' | 'operator_token';
  idp_id: string | null;
  source_credential_id: string | null;
  role: string | null;
  groups: string;
  scope: string;
  audience: string;
  purpose: string | null;
  jkt: string | null;
  upstream_refresh_sealed: string | null;
  auth_time: string;
  created_at: string;
  expires_at: string;
  last_refreshed_at: string | null;
  revoked_at: string | null;
  revoked_reason: string | null;
}

export interface RefreshTokensTable {
  id: string;
  session_id: string;
  secret_hash: string;
  issued_at: string;
  expires_at: string;
  used_at: string | null;
  replaced_by: string | null;
}

export interface PolicyVersionsTable {
  id: string;
  version: number;
  status: 'candidate' | 'active' | 'superseded' | 'rejected';
  policies: string;
  tests: string | null;
  /** Cedar schema fragment declaring an application's own actions (namespace App). */
  app_schema: string | null;
  description: string | null;
  sha256: string;
  created_at: string;
  created_by: string | null;
  activated_at: string | null;
  activated_by: string | null;
  status_reason: string | null;
}

export interface GrantsTable {
  id: string;
  principal_id: string;
  resource_id: string;
  /** JSON list of action names. */
  actions: string;
  purpose: string | null;
  expires_at: string;
  reason: string;
  source: 'admin' | 'approval' | 'break_glass';
  source_ref: string | null;
  granted_by: string | null;
  created_at: string;
  revoked_at: string | null;
  revoked_by: string | null;
  revoked_reason: string | null;
}

export interface DevicesTable {
  id: string;
  device_id: string;
  principal_id: string | null;
  posture: 'compliant' | 'noncompliant' | 'unknown';
  /** JSON facts as reported. */
  details: string;
  reported_at: string;
  reported_by: string | null;
  valid_until: string;
}

export interface PostureIssuersTable {
  id: string;
  name: string;
  issuer: string;
  jwks: string | null;
  jwks_uri: string | null;
  max_age_seconds: number;
  created_at: string;
  created_by: string | null;
}

export interface AuthzVersionsTable {
  name: 'entities' | 'policies';
  version: number;
}

export interface AccessRequestsTable {
  id: string;
  kind: 'access' | 'registration' | 'break_glass';
  status: 'pending' | 'approved' | 'denied' | 'cancelled' | 'expired';
  requester_id: string;
  accountable_id: string | null;
  /** JSON principal ids: the requester, the human answerable for it, and the requesting token's delegation chain. */
  requester_chain: string;
  subject_id: string;
  /** JSON [{ id, name, kind, risk_tier, classification }] as resolved when filed or edited. */
  resources: string;
  actions: string;
  purpose: string | null;
  justification: string;
  duration_seconds: number;
  ticket: string | null;
  tier: string;
  /** JSON: the approval rule applied (frozen when filed or edited). */
  requirement: string;
  request_hash: string;
  revision: number;
  created_at: string;
  updated_at: string;
  pending_until: string | null;
  decided_at: string | null;
  decided_by: string | null;
  decision_reason: string | null;
  grant_ids: string;
  review_status: 'open' | 'closed' | null;
  review_finding: string | null;
  review_closed_by: string | null;
  review_closed_at: string | null;
}

export interface ApprovalsTable {
  id: string;
  request_id: string;
  approver_id: string;
  decision: 'approve' | 'deny';
  request_hash: string;
  revision: number;
  comment: string | null;
  credential_id: string | null;
  created_at: string;
}

export interface ApprovalSettingsTable {
  id: string;
  document: string;
  version: number;
  updated_at: string;
  updated_by: string | null;
}

export interface ReviewCampaignsTable {
  id: string;
  name: string;
  status: 'open' | 'closed';
  settings: string;
  created_at: string;
  created_by: string | null;
  due_at: string;
  grace_until: string;
  closed_at: string | null;
}

export interface ReviewItemsTable {
  id: string;
  campaign_id: string;
  principal_id: string;
  reviewer_id: string | null;
  reviewer_team_id: string | null;
  orphaned: number;
  snapshot: string;
  status: 'pending' | 'kept' | 'reduced' | 'revoked' | 'lapsed';
  decided_by: string | null;
  decided_at: string | null;
  decision_reason: string | null;
  applied: string | null;
  notified: string | null;
}

export interface WebhooksTable {
  id: string;
  name: string;
  url: string;
  secret_sealed: string;
  events: string;
  format: 'json' | 'slack';
  enabled: number;
  created_at: string;
  created_by: string | null;
  updated_at: string;
}

export interface WebhookDeliveriesTable {
  id: string;
  webhook_id: string;
  event_id: string;
  event_type: string;
  payload: string;
  status: 'pending' | 'delivered' | 'dead';
  attempts: number;
  next_attempt_at: string | null;
  last_status: number | null;
  last_error: string | null;
  created_at: string;
  delivered_at: string | null;
}

export interface UpstreamsTable {
  id: string;
  name: string;
  provider: 'openai' | 'anthropic' | 'azure-openai' | 'openai-compatible';
  base_url: string;
  key_sealed: string | null;
  /** JSON: provider settings that are not secret (api_version for Azure OpenAI, …). */
  settings: string;
  timeout_ms: number;
  retries: number;
  created_at: string;
  created_by: string | null;
  updated_at: string;
  version: number;
}

export interface UpstreamModelsTable {
  resource_id: string;
  upstream_id: string;
  provider_model: string;
  created_at: string;
}

export interface GatewayLimitsTable {
  id: string;
  target_kind: 'principal' | 'team' | 'resource';
  target_id: string;
  requests_per_minute: number | null;
  tokens_per_minute: number | null;
  tokens_per_day: number | null;
  tokens_per_month: number | null;
  created_at: string;
  updated_at: string;
  updated_by: string | null;
}

// The MCP gateway (gateway/mcp/, migration 0009_mcp): registered MCP servers and the tools each lists.
export interface McpServersTable {
  id: string;
  name: string;
  /** The registry resource standing for the server (kind endpoint, `mcp-<name>`): resources/prompts decide on it. */
  resource_id: string;
  upstream_url: string;
  credential_sealed: string | null;
  /** JSON, see McpSettings. */
  settings: string;
  description: string | null;
  owner_id: string;
  protocol_version: string | null;
  tools_synced_at: string | null;
  created_at: string;
  created_by: string | null;
  updated_at: string;
  version: number;
}

export interface McpToolsTable {
  server_id: string;
  name: string;
  resource_id: string;
  /** JSON: the tool definition the upstream listed last. */
  definition: string;
  present: number;
  first_seen_at: string;
  last_seen_at: string;
}

export interface DB {
  meta: MetaTable;
  principals: PrincipalsTable;
  principal_labels: LabelsTable;
  teams: TeamsTable;
  team_members: TeamMembersTable;
  resources: ResourcesTable;
  resource_labels: LabelsTable;
  operator_tokens: OperatorTokensTable;
  audit_events: AuditEventsTable;
  audit_delegation: AuditDelegationTable;
  audit_checkpoints: AuditCheckpointsTable;
  audit_nodes: AuditNodesTable;
  findings: FindingsTable;
  signing_keys: SigningKeysTable;
  oauth_tokens: OAuthTokensTable;
  api_keys: ApiKeysTable;
  client_secrets: ClientSecretsTable;
  client_keys: ClientKeysTable;
  federation_issuers: FederationIssuersTable;
  replay_cache: ReplayCacheTable;
  revocations: RevocationsTable;
  identity_providers: IdentityProvidersTable;
  external_identities: ExternalIdentitiesTable;
  oauth_clients: OAuthClientsTable;
  signin_requests: SigninRequestsTable;
  signin_sessions: SigninSessionsTable;
  refresh_tokens: RefreshTokensTable;
  policy_versions: PolicyVersionsTable;
  grants: GrantsTable;
  devices: DevicesTable;
  posture_issuers: PostureIssuersTable;
  authz_versions: AuthzVersionsTable;
  access_requests: AccessRequestsTable;
  approvals: ApprovalsTable;
  approval_settings: ApprovalSettingsTable;
  review_campaigns: ReviewCampaignsTable;
  review_items: ReviewItemsTable;
  webhooks: WebhooksTable;
  webhook_deliveries: WebhookDeliveriesTable;
  upstreams: UpstreamsTable;
  upstream_models: UpstreamModelsTable;
  gateway_limits: GatewayLimitsTable;
  mcp_servers: McpServersTable;
  mcp_tools: McpToolsTable;
}

export type { Generated };
