import { z } from 'zod';
import { paginationQuery } from '../../platform/http/pagination.js';
import { POSTURES } from './posture.js';

// Request and response shapes of /v1/devices: posture records an MDM or EDR integration pushes about a device
// and the principal using it. Every field is bounded.

export const MIN_VALID_FOR_SECONDS = 60;
export const MAX_VALID_FOR_SECONDS = 7 * 86_400;
export const DEFAULT_VALID_FOR_SECONDS = 86_400;
export const MAX_DETAILS = 32;

/** The reporter's own identifier for the device (serial, MDM id, hostname): no slashes, so it fits a path segment. */
export const deviceIdSchema = z.string().min(1).max(200).regex(/^[A-Za-z0-9][A-Za-z0-9._:@+-]*$/, 'letters, digits and . _ : @ + - only, starting with a letter or digit')
  .describe('The reporter\'s identifier for the device (serial number, MDM device id, hostname)');

const detailKey = z.string().min(1).max(64).regex(/^[A-Za-z0-9_.-]+$/, 'detail keys: letters, digits and _ . -');
const detailValue = z.union([z.string().max(500), z.number(), z.boolean(), z.null()]);
export const detailsSchema = z.record(detailKey, detailValue)
  .refine((d) => Object.keys(d).length <= MAX_DETAILS, `at most ${MAX_DETAILS} details`)
  .describe('Facts as reported (os, os_version, disk_encrypted, firewall, edr_running, …): shown and audited, never evaluated by Custos');

const reason = z.string().max(1000).optional().describe('Why: recorded in the audit log');

const reportFields = {
  principal: z.string().min(1).max(200).describe('The principal (id or name) using the device'),
  posture: z.enum(POSTURES).describe('compliant, noncompliant, or unknown'),
  details: detailsSchema.optional(),
  valid_for_seconds: z.number().int().min(MIN_VALID_FOR_SECONDS).max(MAX_VALID_FOR_SECONDS).optional()
    .describe(`How long the record counts (default ${DEFAULT_VALID_FOR_SECONDS}); after that the device\'s posture is unknown until reported again`),
  reason,
};

export const reportDeviceBody = z.strictObject({ device_id: deviceIdSchema, ...reportFields });
export const putDeviceBody = z.strictObject(reportFields);
export type ReportDeviceInput = z.infer<typeof reportDeviceBody>;

export const deviceSchema = z.object({
  id: z.string(),
  device_id: z.string(),
  principal: z.object({ id: z.string(), name: z.string() }).nullable(),
  posture: z.enum(POSTURES),
  details: z.record(z.string(), detailValue),
  reported_at: z.string(),
  reported_by: z.string().nullable(),
  valid_until: z.string(),
  /** Whether the record counts now (valid_until is in the future). */
  current: z.boolean(),
});
export type DeviceView = z.infer<typeof deviceSchema>;

export const listDevicesQuery = z.strictObject({
  ...paginationQuery,
  principal: z.string().min(1).max(200).optional().describe('Only this principal\'s devices (id or name)'),
  posture: z.enum(POSTURES).optional(),
});
export type ListDevicesQuery = z.infer<typeof listDevicesQuery>;
export const deviceParams = z.strictObject({ device_id: deviceIdSchema });
export const deleteDeviceQuery = z.strictObject({ reason });
