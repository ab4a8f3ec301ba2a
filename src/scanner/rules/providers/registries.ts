// Package and image registries: Docker config.json auth, npm tokens.
import type { Rule } from '../../types.js';
import { B, E } from '../pattern-parts.js';
import { hasTrailingCrc32 } from '../checksum.js';
import { ALNUM, checksummedToken, randomString as r, seeded } from '../fake.js';

/** Example secrets are drawn from this file's own seed, so editing one provider's examples leaves the others alone. */
const rnd = seeded(424210);
const npmTok = checksummedToken('npm_', rnd);
const dockerAuth = Buffer.from(`deploy:${r(ALNUM, 24, rnd)}`).toString('base64');

export const dockerConfigAuth: Rule = {
  id: 'docker-config-auth', description: 'Docker config.json registry auth', provider: 'Docker', severity: 'high',
  keywords: ['"auths"'],
  pattern: `"auth"\\s{0,5}:\\s{0,5}"(?<secret>[A-Za-z0-9+/]{8,600}={0,2})"`,
  validate: (s) => /^[^:\s]{1,128}:.{3,}$/s.test(Buffer.from(s, 'base64').toString('utf8')),
  examples: {
    truePositives: [`{"auths": {"registry.example.com": {"auth": "${dockerAuth}"}}}`],
    falsePositives: ['{"auths": {"ghcr.io": {"auth": ""}}}', '{"auths": {"r": {"auth": "bm90LWEtcGFpcg=="}}}'],
  },
};

export const npmToken: Rule = {
  id: 'npm-token', description: 'npm access token', provider: 'npm', severity: 'critical',
  keywords: ['npm_'], checksum: true,
  pattern: `${B}npm_[A-Za-z0-9]{36}${E}`,
  validate: (s) => hasTrailingCrc32(s, 4),
  examples: { truePositives: [`//registry.npmjs.org/:_authToken=${npmTok}`], falsePositives: ['npm_config_cache_directory_path_value_x'] },
};
