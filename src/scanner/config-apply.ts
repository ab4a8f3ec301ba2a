// What a scan config means for a run, without the config parser: the CLI loads the parser (zod,
// yaml) only when a config file exists, so a plain `custos scan` starts faster.
import type { ScanConfig } from './config.js';
import { DEFAULT_LIMITS, type Limits } from './collector.js';
import type { RuleTuning } from './engine.js';

/** The config in effect when there is no config file (what the schema gives for `{}`). */
export function emptyScanConfig(): ScanConfig {
  return { exclude: [], rules: { disable: [], severity: {} }, allow: [], limits: {} };
}

export function tuningOf(cfg: ScanConfig): RuleTuning {
  return { disable: cfg.rules.disable, severity: cfg.rules.severity };
}

export function limitsOf(cfg: ScanConfig): Limits {
  return { ...DEFAULT_LIMITS, ...cfg.limits };
}
