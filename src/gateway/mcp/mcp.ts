import crypto from 'node:crypto';
import canonicalize from 'canonicalize';

// The rules of an MCP server registration and of its tools that do not depend on the store (pure, exact tests in
// mcp.test.ts): names, the upstream credential's shape, timeouts, the registry names of the server and its tools,
// which tool names are served, and the text copied from an upstream into the registry.
//
// What it guards against:
// - A name that cannot be a URL path segment or a resource-name prefix: a DNS label of at most 32 characters, so
//   `<server>-<tool>` keeps room for the tool within a 63-character resource name.
// - A credential that could split a header or pose as one the transport owns: bearer tokens are printable ASCII
//   without spaces; a custom header has a token name that is none of the headers the gateway sets itself (Host,
//   Content-*, Mcp-Session-Id, …) and a value without CR/LF. The sealed value opens only for its own server
//   (`mcp-upstream-credential:<id>`).
// - Upstream text reaching the registry unchecked: tool names outside the MCP naming rule (1-128 of A-Z a-z 0-9 _ - .
//   and /) are not served at all; titles and descriptions lose control and bidi characters and are bounded.
// - Two tools landing on one resource: a sanitised name that is taken gets a suffix from the tool's own name hash,
//   so the same tool always asks for the same names.

export const MAX_SERVER_NAME_LENGTH = 32;
export const SERVER_NAME_PATTERN = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;
export const TIMEOUT_MS = { min: 1_000, max: 300_000, default: 30_000 } as const;

export const MIN_TOKEN_LENGTH = 8;
export const MAX_CREDENTIAL_LENGTH = 4096;
/** Printable ASCII without spaces (a bearer token goes into `Authorization: Bearer …`). */
export const TOKEN_PATTERN = /^[\x21-\x7E]+$/;
/** RFC 9110 token characters. */
export const HEADER_NAME_PATTERN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$/;
/** Printable ASCII with inner spaces, no CR/LF. */
export const HEADER_VALUE_PATTERN = /^[\x21-\x7E]([\x20-\x7E]*[\x21-\x7E])?$/;

/** Headers the gateway sets on the upstream request itself, or that change how HTTP frames it. */
const RESERVED_HEADERS = new Set([
  'host', 'content-length', 'content-type', 'content-encoding', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer',
  'accept', 'accept-encoding', 'expect', 'mcp-session-id', 'mcp-protocol-version', 'last-event-id', 'proxy-authorization', 'proxy-connection',
  'forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'dpop', 'x-api-key-custos',
]);

/** The MCP specification's tool names (2025-11-25): 1-128 of letters, digits, `_`, `-`, `.`; `/` is common too. */
export const TOOL_NAME_PATTERN = /^[A-Za-z0-9_./-]{1,128}$/;

/** The scopes of an MCP endpoint: which methods a token may use. */
export const MCP_SCOPES = ['mcp:tools', 'mcp:resources', 'mcp:prompts'] as const;
export type McpScope = (typeof MCP_SCOPES)[number];

/** Protocol revisions the gateway speaks to clients (the upstream negotiates its own). */
export const PROTOCOL_VERSIONS = ['2026-07-28', '2025-11-25', '2025-06-18', '2025-03-26'] as const;
export const LATEST_PROTOCOL_VERSION = '2025-11-25';

export type UpstreamCredential =
  | { type: 'bearer'; token: string }
  | { type: 'header'; name: string; value: string };

/** What the view and audit events say of a credential: its kind and header name, never its value. */
export type CredentialFacts = null | { type: 'bearer' } | { type: 'header'; header_name: string };

export interface McpSettings {
  timeout_ms: number;
  credential: CredentialFacts;
}

export function credentialContext(serverId: string): string {
  return `mcp-upstream-credential:${serverId}`;
}

export function serverResourceName(server: string): string {
  return `mcp-${server}`;
}

/** What is wrong with a server name, or undefined. */
export function serverNameProblem(name: string): string | undefined {
  if (name.length < 1 || name.length > MAX_SERVER_NAME_LENGTH || !SERVER_NAME_PATTERN.test(name)) {
    return `name must be a DNS label of at most ${MAX_SERVER_NAME_LENGTH} characters: lowercase letters, digits and hyphens, not starting or ending with a hyphen`;
  }
  return undefined;
}

/** What is wrong with a credential, or undefined (the text never contains the secret). */
export function credentialProblem(c: UpstreamCredential): string | undefined {
  if (c.type === 'bearer') {
    if (c.token.length < MIN_TOKEN_LENGTH || c.token.length > MAX_CREDENTIAL_LENGTH) return `credential.token must be ${MIN_TOKEN_LENGTH}-${MAX_CREDENTIAL_LENGTH} characters`;
    if (!TOKEN_PATTERN.test(c.token)) return 'credential.token must be printable ASCII without spaces';
    return undefined;
  }
  if (!HEADER_NAME_PATTERN.test(c.name)) return 'credential.name must be an HTTP header name (letters, digits and !#$%&\'*+.^_`|~-, at most 64)';
  if (RESERVED_HEADERS.has(c.name.toLowerCase())) return `credential.name '${c.name.toLowerCase()}' is a header the gateway sets itself`;
  if (c.value.length < 1 || c.value.length > MAX_CREDENTIAL_LENGTH) return `credential.value must be 1-${MAX_CREDENTIAL_LENGTH} characters`;
  if (!HEADER_VALUE_PATTERN.test(c.value)) return 'credential.value must be printable ASCII (inner spaces allowed), without line breaks';
  return undefined;
}

export function credentialFacts(c: UpstreamCredential | null): CredentialFacts {
  if (c === null) return null;
  return c.type === 'bearer' ? { type: 'bearer' } : { type: 'header', header_name: c.name.toLowerCase() };
}

/** The header the upstream request carries for a credential. */
export function credentialHeader(c: UpstreamCredential): [string, string] {
  return c.type === 'bearer' ? ['authorization', `Bearer ${c.token}`] : [c.name.toLowerCase(), c.value];
}

export function timeoutProblem(ms: number): string | undefined {
  if (!Number.isInteger(ms) || ms < TIMEOUT_MS.min || ms > TIMEOUT_MS.max) return `timeout_ms must be a whole number from ${TIMEOUT_MS.min} to ${TIMEOUT_MS.max}`;
  return undefined;
}

export function parseSettings(text: string): McpSettings {
  const raw = JSON.parse(text) as Record<string, unknown>;
  const timeout = typeof raw.timeout_ms === 'number' ? raw.timeout_ms : TIMEOUT_MS.default;
  const c = raw.credential as Record<string, unknown> | null | undefined;
  let credential: CredentialFacts = null;
  if (c && c.type === 'bearer') credential = { type: 'bearer' };
  else if (c && c.type === 'header' && typeof c.header_name === 'string') credential = { type: 'header', header_name: c.header_name };
  return { timeout_ms: timeout, credential };
}

export function settingsText(s: McpSettings): string {
  return JSON.stringify({ timeout_ms: s.timeout_ms, credential: s.credential });
}

/** A sealed credential's plaintext → the credential (JSON); throws on anything else. */
export function parseCredential(text: string): UpstreamCredential {
  const raw = JSON.parse(text) as Record<string, unknown>;
  if (raw.type === 'bearer' && typeof raw.token === 'string') return { type: 'bearer', token: raw.token };
  if (raw.type === 'header' && typeof raw.name === 'string' && typeof raw.value === 'string') return { type: 'header', name: raw.name, value: raw.value };
  throw new Error('not an MCP upstream credential');
}

const shortHash = (text: string) => crypto.createHash('sha256').update(text).digest('hex').slice(0, 6);

/** The tool part of a resource name: lowercase, runs of anything but [a-z0-9] become one hyphen, trimmed. */
export function sanitiseToolName(tool: string): string {
  return tool.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '');
}

/**
 * The registry name of a tool: `<server>-<tool>`, the tool part sanitised and cut so the whole is a DNS label of
 * at most 63 characters. `alternative` asks for the second choice (the name was taken): the tool part then ends in
 * six hex digits of the tool's own name's SHA-256, so the same tool always asks for the same two names.
 */
export function toolResourceName(server: string, tool: string, alternative = false): string {
  const room = 63 - server.length - 1;
  let part = sanitiseToolName(tool);
  const lossy = part.length === 0 || part.length > room;
  if (alternative || lossy) {
    const suffix = shortHash(tool);
    part = part.slice(0, Math.max(0, room - suffix.length - 1)).replace(/-+$/, '');
    part = part.length > 0 ? `${part}-${suffix}` : suffix;
  }
  return `${server}-${part}`;
}

/** Whether the gateway serves a tool of this name (others are hidden and refused). */
export function isServableToolName(name: unknown): name is string {
  return typeof name === 'string' && TOOL_NAME_PATTERN.test(name);
}

// C0 and C1 controls except tab and newline, bidi controls, and lone surrogates.
// eslint-disable-next-line no-control-regex
const UNSAFE_TEXT = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Upstream text for the registry: unsafe characters removed, at most `max` characters; undefined when empty. */
export function safeText(value: unknown, max: number): string | undefined {
  if (typeof value !== 'string') return undefined;
  const cleaned = value.replace(UNSAFE_TEXT, '').trim();
  if (cleaned.length === 0) return undefined;
  // Never cut a surrogate pair in two.
  const cut = Array.from(cleaned).slice(0, max).join('');
  return cut.length > max ? Array.from(cleaned).slice(0, max - 1).join('') : cut;
}

/** RFC 8785 canonical JSON of a JSON value (the `canonicalize` package, as the audit log uses). */
export function canonicalJson(value: unknown): string {
  return canonicalize(value ?? null) ?? 'null';
}

export function sha256Hex(text: string): string {
  return crypto.createHash('sha256').update(text).digest('hex');
}
