import { describe, expect, it } from 'vitest';
import { scanConfigSchema, parseScanConfig, configErrorMessage } from './config.js';
import { emptyScanConfig, limitsOf } from './config-apply.js';
import { DEFAULT_LIMITS } from './collector.js';

describe('scan config without a file', () => {
  it('is what the schema makes of an empty config', () => {
    expect(emptyScanConfig()).toEqual(scanConfigSchema.parse({}));
    expect(limitsOf(emptyScanConfig())).toEqual(DEFAULT_LIMITS);
  });
  it('config errors read as one line with the failing path', () => {
    let err: unknown;
    try {
      parseScanConfig('limits:\n  maxFileBytes: -1\n');
    } catch (e) {
      err = e;
    }
    expect(configErrorMessage(err)).toMatch(/^limits\.maxFileBytes: /);
  });
});
