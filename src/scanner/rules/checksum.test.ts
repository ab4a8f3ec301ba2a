import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { base62 } from '../../platform/credential-format.js';
import { hasTrailingCrc32 } from './checksum.js';

describe('offline checksums', () => {
  it('GitHub-style checksum helper accepts a correct and refuses a wrong checksum', () => {
    const body = 'abcdefghijklmnopqrstuvwxyz0123';
    const good = `ghp_${body}${base62(crc32(body) >>> 0, 6)}`;
    expect(hasTrailingCrc32(good, 4)).toBe(true);
    expect(hasTrailingCrc32(good.slice(0, -1) + (good.endsWith('0') ? '1' : '0'), 4)).toBe(false);
  });
});
