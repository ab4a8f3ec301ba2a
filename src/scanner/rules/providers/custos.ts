// Custos' own credentials (operator tokens, API keys, OAuth client secrets, refresh tokens): checksummed, parsed with the shared format module,
// and the server revokes a live one that a report names.
import type { Rule } from '../../types.js';
import { B, E } from '../pattern-parts.js';
import { formatCustosToken, parseCustosToken } from '../../../platform/credential-format.js';
import { ALNUM, fakeCustosToken, LOWER32, randomString, seeded } from '../fake.js';

/** Example secrets are drawn from this file's own seed, so editing one provider's examples leaves the others alone. */
const rnd = seeded(424201);

export const custosOperatorToken: Rule = {
  id: 'custos-operator-token', description: 'Custos operator API token', provider: 'Custos', severity: 'critical',
  keywords: ['custos_op_'], checksum: true,
  pattern: `${B}custos_op_[a-z2-7]{16}_[A-Za-z0-9]{32}_[A-Za-z0-9]{6}${E}`,
  validate: (s) => parseCustosToken(s)?.kind === 'op',
  examples: {
    truePositives: [`CUSTOS_TOKEN=${fakeCustosToken('op', rnd)}`],
    falsePositives: ['custos_op_aaaaaaaaaaaaaaaa_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA_000000', 'custos_op_<id>_<secret>_<crc>'],
  },
};

export const custosApiKey: Rule = {
  id: 'custos-api-key', description: 'Custos API key', provider: 'Custos', severity: 'critical',
  keywords: ['custos_ak_'], checksum: true,
  pattern: `${B}custos_ak_[a-z2-7]{16}_[A-Za-z0-9]{32}_[A-Za-z0-9]{6}${E}`,
  validate: (s) => parseCustosToken(s)?.kind === 'ak',
  examples: {
    truePositives: [
      `key: "${fakeCustosToken('ak', rnd)}"`,
      `Authorization: Bearer ${fakeCustosToken('ak', rnd)}`,
      `export CUSTOS_API_KEY=${fakeCustosToken('ak', rnd)}`,
      `{"api_key":"${fakeCustosToken('ak', rnd)}","region":"eu"}`,
    ],
    falsePositives: [
      // Checksum wrong, a placeholder, the spelling of the format, an operator token, a secret one short.
      `custos_ak_${'b'.repeat(16)}_${'Z'.repeat(32)}_ABCDEF`,
      'CUSTOS_API_KEY=custos_ak_<id>_<secret>_<crc>',
      'format: cst_<id>_<secret>_<crc32>',
      `CUSTOS_TOKEN=${fakeCustosToken('op', rnd)}`,
      `key: ${fakeCustosToken('ak', rnd).replace(/_([A-Za-z0-9]{32})_/, (_m, sec: string) => `_${sec.slice(1)}_`)}`,
    ],
  },
};

/** An OAuth client secret (client_secret_basic / client_secret_post); drawn after the rules above, so their examples stay as they were. */
export const custosClientSecret: Rule = {
  id: 'custos-client-secret', description: 'Custos OAuth client secret', provider: 'Custos', severity: 'critical',
  keywords: ['custos_cs_'], checksum: true,
  pattern: `${B}custos_cs_[a-z2-7]{16}_[A-Za-z0-9]{32}_[A-Za-z0-9]{6}${E}`,
  validate: (s) => parseCustosToken(s)?.kind === 'cs',
  examples: {
    truePositives: [`CLIENT_SECRET=${formatCustosToken('cs', randomString(LOWER32, 16, rnd), randomString(ALNUM, 32, rnd))}`],
    falsePositives: [`custos_cs_${'c'.repeat(16)}_${'Y'.repeat(32)}_ABCDEF`, 'client_secret: custos_cs_<id>_<secret>_<crc>'],
  },
};

/** A person's refresh token (sign-in sessions); drawn last, so the examples above stay as they were. */
export const custosRefreshToken: Rule = {
  id: 'custos-refresh-token', description: 'Custos refresh token (a person\'s sign-in session)', provider: 'Custos', severity: 'critical',
  keywords: ['custos_rt_'], checksum: true,
  pattern: `${B}custos_rt_[a-z2-7]{16}_[A-Za-z0-9]{32}_[A-Za-z0-9]{6}${E}`,
  validate: (s) => parseCustosToken(s)?.kind === 'rt',
  examples: {
    truePositives: [`"refresh_token": "${formatCustosToken('rt', randomString(LOWER32, 16, rnd), randomString(ALNUM, 32, rnd))}"`],
    falsePositives: [`custos_rt_${'d'.repeat(16)}_${'X'.repeat(32)}_ABCDEF`, 'refresh_token: custos_rt_<id>_<secret>_<crc>'],
  },
};
