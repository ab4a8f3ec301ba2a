// Key material and signed tokens: PEM/OpenSSH private keys, Kubernetes service-account tokens, JWTs.
import type { Rule } from '../../types.js';
import { B, E } from '../pattern-parts.js';
import { fakeJwt, fakePem, seeded } from '../fake.js';

/** Example secrets are drawn from this file's own seed, so editing one provider's examples leaves the others alone. */
const rnd = seeded(424208);
const pemKey = fakePem('RSA PRIVATE KEY', rnd);
const sshKey = fakePem('OPENSSH PRIVATE KEY', rnd);
const plainJwt = fakeJwt({ sub: 'agent-7', iss: 'https://issuer.example.net', exp: 1900000000 }, rnd);
const k8sJwt = fakeJwt({ iss: 'kubernetes/serviceaccount', 'kubernetes.io/serviceaccount/namespace': 'default' }, rnd);

function decodeJsonSegment(seg: string): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(Buffer.from(seg, 'base64url').toString('utf8'));
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function isKubernetesSaJwt(token: string): boolean {
  const payload = decodeJsonSegment(token.split('.')[1] ?? '');
  if (!payload) return false;
  return payload.iss === 'kubernetes/serviceaccount' || 'kubernetes.io' in payload ||
    'kubernetes.io/serviceaccount/namespace' in payload;
}

function isJwt(token: string): boolean {
  const [h, p] = token.split('.');
  const header = decodeJsonSegment(h ?? '');
  return !!header && typeof header.alg === 'string' && !!decodeJsonSegment(p ?? '');
}

/**
 * The body may hold real line breaks or escaped ones (`\n` written out, as `.env`, JSON, Terraform and Helm
 * strings keep a key on one line): the class admits the backslash. Still one lazy bounded run to a literal
 * END marker, so the cost per BEGIN stays bounded (engine.safety.test.ts has the escaped case).
 */
export const privateKey: Rule = {
  id: 'private-key', description: 'Private key (PEM or OpenSSH)', provider: 'Cryptographic key', severity: 'critical',
  keywords: ['private key-----'],
  pattern: `-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----[A-Za-z0-9+/=\\r\\n\\t :,.\\\\-]{64,8192}?-----END (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----`,
  examples: {
    truePositives: [pemKey, `ssh_key: |\n${sshKey}`],
    falsePositives: ['-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----', '-----BEGIN PUBLIC KEY-----'],
  },
};

export const kubernetesServiceAccountToken: Rule = {
  id: 'kubernetes-service-account-token', description: 'Kubernetes service-account token', provider: 'Kubernetes', severity: 'high',
  anchored: true,
  keywords: ['eyj'],
  pattern: `${B}eyJ[A-Za-z0-9_-]{8,2000}\\.eyJ[A-Za-z0-9_-]{8,8000}\\.[A-Za-z0-9_-]{16,1000}${E}`,
  validate: (s) => isJwt(s) && isKubernetesSaJwt(s),
  examples: { truePositives: [`token: ${k8sJwt}`], falsePositives: [`token: ${plainJwt}`] },
};

export const jwtToken: Rule = {
  id: 'jwt', description: 'JSON Web Token (including Custos access tokens)', provider: 'JWT', severity: 'medium',
  anchored: true,
  keywords: ['eyj'],
  pattern: `${B}eyJ[A-Za-z0-9_-]{8,2000}\\.eyJ[A-Za-z0-9_-]{8,8000}\\.[A-Za-z0-9_-]{16,1000}${E}`,
  validate: (s) => isJwt(s),
  examples: { truePositives: [`Authorization: Bearer ${plainJwt}`], falsePositives: ['eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.not-base64-json!!'] },
};
