import { z } from 'zod';
import { paginationQuery } from '../platform/http/pagination.js';

// Fields every rotatable bearer credential (API keys, client secrets) shows in the same shape, and the one
// list query over them: one definition, so the two answer alike.

export const heldCredentialFields = {
  id: z.string(),
  principal: z.object({ id: z.string(), name: z.string() }),
  created_at: z.string(),
  created_by: z.string().nullable(),
  expires_at: z.string(),
  revoked_at: z.string().nullable(),
  revoked_reason: z.string().nullable(),
  last_used_at: z.string().nullable(),
};

/** `replaced_by` of a credential called `noun` ('key', 'secret'). */
export const replacedBy = (noun: string) => z.string().nullable().describe(`The ${noun} that replaced this one by rotation`);

/** GET list query of a credential kind whose items are called `nouns` ('keys', 'secrets'). */
export function listHeldQuery(nouns: string) {
  return z.strictObject({
    ...paginationQuery,
    principal: z.string().max(200).optional().describe(`Only the ${nouns} of this principal (id or name); owner-role operators must name one they own`),
    include_revoked: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
  });
}
