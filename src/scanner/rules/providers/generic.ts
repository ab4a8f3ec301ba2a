// Generic rules, last in the table: a high-entropy value assigned to a secret-looking name, quoted anywhere or
// unquoted in config files. Any provider rule matching the same text wins over these.
import type { Rule } from '../../types.js';
import { quotedAssignmentSite, unquotedAssignmentSite } from '../keyword-sites.js';
import { ALNUM, randomString as r, seeded } from '../fake.js';

/** Example secrets are drawn from this file's own seed, so editing one provider's examples leaves the others alone. */
const rnd = seeded(424211);

const PLACEHOLDER = [
  /^(?:x+|\*+|#+|\.+|0+|1234.*)$/i,
  /(?:example|sample|dummy|placeholder|changeme|your[_-]?|redacted|xxxx|<|>|\$\{|\{\{|%\()/i,
];

/** Generic values must look machine-made: upper, lower and digits mixed, or long hex. */
function looksRandom(s: string): boolean {
  const up = /[A-Z]/.test(s), low = /[a-z]/.test(s), dig = /[0-9]/.test(s);
  if (up && low && dig) return true;
  return s.length >= 20 && dig && /^(?:[a-f0-9]+|[A-F0-9]+)$/.test(s);
}

export const genericSecretUnquoted: Rule = {
  id: 'generic-secret-unquoted', description: 'High-entropy unquoted value assigned to a secret-looking name in a .env/YAML/tfvars/properties file',
  provider: 'Generic', severity: 'medium',
  keywords: ['secret', 'password', 'passwd', 'token', 'api_key', 'apikey', 'api-key', 'access_key', 'accesskey', 'access-key',
    'auth_key', 'authkey', 'auth-key', 'credential'],
  flags: 'im', minEntropy: 3.5, anchored: true, site: unquotedAssignmentSite,
  // Config files put values unquoted (KEY=value, key: value). Tried at each keyword; the
  // lookbehind checks the keyword sits in a key at the start of a line.
  pathPattern: /(?:^|\/)\.env(?:\.[^/]*)?$|\.(?:env|tfvars|ya?ml|properties|ini|cfg|conf|toml)$/i,
  examplePath: 'deploy/.env',
  pattern: `(?<=^[ \\t]{0,20}(?:export[ \\t]{1,5}|-[ \\t]{1,5})?[A-Za-z0-9_.-]{0,40})(?:secret|passw(?:or)?d|token|api[_-]?key|access[_-]?key|auth[_-]?key|credentials?)[A-Za-z0-9_.-]{0,30}[ \\t]{0,5}[=:][ \\t]{0,5}(?<secret>[A-Za-z0-9+/_.~!@#%^&*=-]{16,128})[ \\t]*\r?$`,
  validate: looksRandom,
  allow: PLACEHOLDER,
  examples: {
    truePositives: [`DB_PASSWORD=${r(ALNUM, 24, rnd)}`, `env:\n  - SERVICE_TOKEN: ${r(ALNUM, 30, rnd)}`],
    falsePositives: ['DB_PASSWORD=${DB_PASSWORD}', 'password_file: /run/secrets/db_password_2024', 'TOKEN_TTL=3600'],
  },
};

export const genericSecret: Rule = {
  id: 'generic-secret', description: 'High-entropy value assigned to a secret-looking name', provider: 'Generic', severity: 'medium',
  keywords: ['secret', 'password', 'passwd', 'token', 'api_key', 'apikey', 'api-key', 'access_key', 'accesskey', 'access-key',
    'auth_key', 'authkey', 'auth-key', 'credential'],
  flags: 'i', minEntropy: 3.5, anchored: true, site: quotedAssignmentSite,
  pattern: `(?:secret|passw(?:or)?d|token|api[_-]?key|access[_-]?key|auth[_-]?key|credentials?)[A-Za-z0-9_.-]{0,30}["'\`]?\\s{0,5}(?:=|:=|:|=>)\\s{0,5}["'\`](?<secret>[A-Za-z0-9+/_.~!@#%^&*=-]{16,128})["'\`]`,
  validate: looksRandom,
  allow: PLACEHOLDER,
  examples: {
    truePositives: [`client_secret = "${r(ALNUM, 32, rnd)}"`, `db:\n  password: '${r(ALNUM, 20, rnd)}'`],
    falsePositives: ['password = "correct-horse-battery"', 'token = "${GITHUB_TOKEN}"', 'api_key = "your-api-key-here-1234"', 'secret_name = "prod-db-credentials-v2"'],
  },
};
