import { describe, expect, it } from 'vitest';
import { createCollector, DEFAULT_LIMITS } from '../../collector.js';
import { createEngine } from '../../engine.js';
import { createSecretHasher } from '../../finding.js';
import { RULES } from '../rules.js';
import { fakePem, seeded } from '../fake.js';

// A private key pasted on one line with escaped newlines, as config formats write it.
const rnd = seeded(3141);
const oneLine = (label: string) => fakePem(label, rnd).replace(/\n/g, '\\n');

function found(path: string, text: string) {
  const c = createCollector({ engine: createEngine({ rules: RULES }), limits: DEFAULT_LIMITS, hasher: createSecretHasher(Buffer.alloc(32)) });
  c.scanContent(Buffer.from(text), { path });
  return c.result('dir', '.', 0).findings.map((f) => [f.ruleId, f.location.line]);
}

describe('private keys with escaped newlines', () => {
  it('.env', () => {
    expect(found('deploy/.env', `APP=1\nTLS_KEY="${oneLine('RSA PRIVATE KEY')}"\n`)).toEqual([['private-key', 2]]);
  });
  it('JSON config', () => {
    expect(found('config/app.json', `{\n  "tls": {\n    "key": "${oneLine('PRIVATE KEY')}\\n"\n  }\n}\n`)).toEqual([['private-key', 3]]);
  });
  it('Terraform variables', () => {
    expect(found('prod.tfvars', `region = "eu-west-1"\nssh_private_key = "${oneLine('OPENSSH PRIVATE KEY')}\\n"\n`)).toEqual([['private-key', 2]]);
  });
  it('Helm values', () => {
    expect(found('chart/values.yaml', `ingress:\n  tls:\n    key: "${oneLine('EC PRIVATE KEY')}"\n`)).toEqual([['private-key', 3]]);
  });
  it('an escaped placeholder is still not a key', () => {
    expect(found('a.json', '{"key": "-----BEGIN RSA PRIVATE KEY-----\\n...\\n-----END RSA PRIVATE KEY-----"}')).toEqual([]);
  });
});
