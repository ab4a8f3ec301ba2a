// Scanner config file (YAML or JSON): paths to skip, rules to tune, allow-list, limits.
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { z, ZodError } from 'zod';
import { SEVERITIES } from './types.js';

export { tuningOf, limitsOf } from './config-apply.js';

const severity = z.enum(SEVERITIES);

export const scanConfigSchema = z.strictObject({
  exclude: z.array(z.string().max(1000)).max(10_000).default([]),
  rules: z.strictObject({
    disable: z.array(z.string()).default([]),
    severity: z.record(z.string(), severity).default({}),
  }).default({ disable: [], severity: {} }),
  allow: z.array(z.string().max(1000)).max(10_000).default([]),
  limits: z.strictObject({
    maxFileBytes: z.number().int().positive(),
    maxArchiveDepth: z.number().int().min(0).max(64),
    maxDecompressedBytes: z.number().int().positive(),
    maxArchiveEntries: z.number().int().positive(),
    maxZipBytes: z.number().int().positive(),
    maxSeconds: z.number().min(0),
  }).partial().default({}),
});
export type ScanConfig = z.infer<typeof scanConfigSchema>;

export function parseScanConfig(text: string): ScanConfig {
  const raw: unknown = parse(text) ?? {};
  const cfg = scanConfigSchema.parse(raw);
  for (const a of cfg.allow) new RegExp(a); // fail on load, not mid-scan
  return cfg;
}

export async function loadScanConfig(file: string): Promise<ScanConfig> {
  return parseScanConfig(await readFile(file, 'utf8'));
}

/** One line for a config that failed to load: each schema issue with its path, else the error's message. */
export function configErrorMessage(err: unknown): string {
  return err instanceof ZodError ? err.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') : (err as Error).message;
}
