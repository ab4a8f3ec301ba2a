import { z } from 'zod';
import { isUuid } from '../platform/ids.js';
import { DNS_LABEL } from './taxonomy.js';

// Field shapes shared by every identity noun (principals, teams, resources): one definition each, so a name,
// a reference or a label means the same thing on every route. Every string is bounded.

// A UUID-shaped name would be read as an id wherever a reference is resolved ("id or name"), so it is refused.
export const nameSchema = z.string()
  .regex(DNS_LABEL, 'must be a DNS label: lowercase letters, digits and hyphens, 1-63 characters')
  .refine((n) => !isUuid(n), 'must not have the shape of an id (UUID)');
export const refSchema = z.string().min(1).max(200).describe('id or name');
export const text = (max: number) => z.string().max(max);
const token = z.string().min(1).max(128).regex(/^[A-Za-z0-9:._/*-]+$/, 'letters, digits and : . _ / * - only');
export const tokenList = z.array(token).max(100);

export const MAX_LABELS = 64;
export const labelKeySchema = z.string().min(1).max(63).regex(/^[A-Za-z0-9._/-]+$/, 'label keys: letters, digits and . _ / -');
export const labelsSchema = z.record(labelKeySchema, z.string().max(256))
  .refine((l) => Object.keys(l).length <= MAX_LABELS, `at most ${MAX_LABELS} labels`);
/** PATCH label fields: `labels` replaces the whole set; `labels_add` / `labels_remove` change single keys. */
export const labelPatchFields = {
  labels: labelsSchema.optional().describe('Replaces the whole label set (keys not listed are removed)'),
  labels_add: labelsSchema.optional().describe('Adds or overwrites these labels, keeping the others'),
  labels_remove: z.array(labelKeySchema).max(MAX_LABELS).optional().describe('Removes these label keys (absent keys are ignored)'),
};
export const labelFilter = z.string().max(400).regex(/^[^=]+=.*$/, 'label filter is key=value').optional();
export const namePrefix = z.string().max(63).optional();

export const reasonSchema = text(1000).optional().describe('Why: recorded in the audit log');
export const reasonBody = z.strictObject({ reason: reasonSchema }).optional();
export const refParams = z.strictObject({ ref: refSchema });

/** `undefined` leaves a field as is, `null` clears it. */
export const nullable = <T extends z.ZodType>(s: T) => s.nullable().optional();
export const boolQuery = z.enum(['true', 'false']).transform((v) => v === 'true');

/** How responses name a related object. */
export const refView = z.object({ id: z.string(), name: z.string() });
