import { z } from 'zod';
import { paginationQuery } from '../platform/http/pagination.js';

// Request and response shapes of /v1/credentials: the inventory of what a principal holds (live access tokens,
// API keys, client secrets, registered client keys) and revocation by token, family, credential or principal.
// The OpenAPI document is generated from them. Never a secret: tokens appear by jti, keys by id.

export const INVENTORY_KINDS = ['access_token', 'api_key', 'client_secret', 'client_key'] as const;
export type InventoryKind = (typeof INVENTORY_KINDS)[number];

export const INVENTORY_STATES = ['live', 'expiring', 'never_used'] as const;
export type InventoryState = (typeof INVENTORY_STATES)[number];

/** How soon counts as "expiring" when state=expiring names no window. */
export const DEFAULT_EXPIRING_WITHIN_SECONDS = 24 * 3600;
export const MAX_EXPIRING_WITHIN_SECONDS = 365 * 86_400;

export const inventoryItemSchema = z.object({
  id: z.string().describe('The credential id (an access token\'s jti)'),
  kind: z.enum(INVENTORY_KINDS),
  principal: z.object({ id: z.string(), name: z.string() }),
  created_at: z.string(),
  expires_at: z.string().nullable(),
  last_used_at: z.string().nullable().describe('Not tracked for access tokens (null)'),
  revoked_at: z.string().nullable(),
  details: z.record(z.string(), z.unknown()).describe('Kind-specific facts (scope, audience, purpose, family, client, …); never a secret'),
});
export type InventoryItem = z.infer<typeof inventoryItemSchema>;

/** `90`, `90s`, `15m`, `1h`, `7d` → seconds; undefined when it is not such a duration. */
export function parseDurationSeconds(text: string): number | undefined {
  const m = /^(\d{1,9})([smhd]?)$/.exec(text.trim());
  if (!m) return undefined;
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(m[1]) * unit;
}

const durationSchema = z.string().max(12).transform((text, ctx) => {
  const seconds = parseDurationSeconds(text);
  if (seconds === undefined || seconds < 1 || seconds > MAX_EXPIRING_WITHIN_SECONDS) {
    ctx.addIssue({ code: 'custom', message: `a duration from 1s to ${MAX_EXPIRING_WITHIN_SECONDS / 86_400}d: seconds, or a number with s, m, h or d` });
    return z.NEVER;
  }
  return seconds;
});

export const listInventoryQuery = z.strictObject({
  ...paginationQuery,
  principal: z.string().min(1).max(200).optional().describe('Whose credentials (id or name); required for owner-role operators; a principal acting with its own credential sees only its own'),
  kind: z.enum(INVENTORY_KINDS).optional(),
  state: z.enum(INVENTORY_STATES).optional().describe('live (default): not revoked, not expired; expiring: live and expiring within expiring_within; never_used: live and never used (access tokens are not tracked and not listed)'),
  expiring_within: durationSchema.optional().describe(`With state=expiring (implied): a duration such as 3600, 15m, 1h, 7d; default ${DEFAULT_EXPIRING_WITHIN_SECONDS / 3600}h`),
  sort: z.enum(['expires_at', 'lifetime']).optional().describe('expires_at: soonest first; lifetime: longest-lived first; default: by id (creation order)'),
});
export type ListInventoryQuery = z.infer<typeof listInventoryQuery>;

const ref = z.string().min(1).max(200);
export const revokeCredentialsBody = z.strictObject({
  jti: ref.optional().describe('An access token: it and every token derived from it'),
  family: ref.optional().describe('A delegation family (the jti of its root): every token in it'),
  credential_id: ref.optional().describe('An API key, client secret or client key: it and every token obtained with it'),
  principal: ref.optional().describe('A principal (id or name): everything it holds and every token it takes part in'),
  reason: z.string().max(1000).optional(),
}).refine((b) => [b.jti, b.family, b.credential_id, b.principal].filter((v) => v !== undefined).length === 1, {
  message: 'give exactly one of jti, family, credential_id or principal',
});
export type RevokeCredentialsInput = z.infer<typeof revokeCredentialsBody>;

export const revocationResultSchema = z.object({
  target: z.object({ kind: z.enum(['token', 'family', 'credential', 'principal']), id: z.string() }),
  revoked_at: z.string(),
  already_revoked: z.boolean().describe('True when it had been revoked before this call (nothing changed)'),
  not_before: z.string().nullable().describe('Principal revocations: tokens issued at or before this are dead'),
  cascade: z.array(z.string()).describe('Access tokens (jti) this call revoked besides the target'),
});
export type RevocationResult = z.infer<typeof revocationResultSchema>;
