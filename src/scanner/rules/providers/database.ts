// Database connection URLs with an embedded password.
import type { Rule } from '../../types.js';
import { ALNUM, randomString as r, seeded } from '../fake.js';

/** Example secrets are drawn from this file's own seed, so editing one provider's examples leaves the others alone. */
const rnd = seeded(424209);

export const databaseUrlPassword: Rule = {
  id: 'database-url-password', description: 'Database URL with an embedded password', provider: 'Database', severity: 'high',
  keywords: ['postgres', 'mysql', 'mariadb', 'mongodb', 'redis', 'amqp', 'mssql', 'sqlserver'], flags: 'i',
  pattern: `(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\\+srv)?|rediss?|amqps?|mssql|sqlserver)://[^\\s:/@'"]{1,64}:(?<secret>[^\\s:/@'"$<>{}]{3,128})@[A-Za-z0-9.-]{1,255}`,
  allow: [/^(?:password|pass|passwd|pwd|secret|changeme|postgres|root|admin|user|example|test|\*+|x+)$/i],
  examples: {
    truePositives: [`DATABASE_URL=postgres://app:${r(ALNUM, 18, rnd)}@db.internal:5432/app`],
    falsePositives: ['postgres://app:password@localhost/app', 'postgres://app:${DB_PASSWORD}@db/app', 'postgres://localhost/app'],
  },
};
