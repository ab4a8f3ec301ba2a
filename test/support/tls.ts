import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

// A self-signed TLS certificate for an IP address, made by the system's openssl for tests that need a real https
// server on 127.0.0.1 (a Client ID Metadata Document must be https). Rules:
// - P-256 key, one day of validity, subject CN and subjectAltName both the IP address (a client checks the SAN);
//   openssl marks it CA:TRUE, so a process given it in NODE_EXTRA_CA_CERTS accepts it as its own trust anchor.
// - The key never leaves `dir` (mode 0600); callers remove `dir` when done.
// - openssl missing is an error that says so: the test needing it must fail, not quietly skip.

const run = promisify(execFile);

export interface TestCertificate {
  keyFile: string;
  certFile: string;
  key: Buffer;
  cert: Buffer;
}

export async function selfSignedCertificate(dir: string, ip = '127.0.0.1'): Promise<TestCertificate> {
  const keyFile = path.join(dir, 'tls-key.pem');
  const certFile = path.join(dir, 'tls-cert.pem');
  try {
    await run('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
      '-subj', `/CN=${ip}`, '-addext', `subjectAltName=IP:${ip}`, '-keyout', keyFile, '-out', certFile,
    ], { timeout: 20_000 });
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === 'ENOENT') throw new Error('openssl is not installed: it is needed to make the test TLS certificate');
    throw new Error(`openssl could not make a certificate: ${e.stderr ?? e.message}`);
  }
  fs.chmodSync(keyFile, 0o600);
  return { keyFile, certFile, key: fs.readFileSync(keyFile), cert: fs.readFileSync(certFile) };
}
