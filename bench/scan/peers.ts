// The scan benchmark's peers, checked before anything is generated: on a machine without them the bench
// says in one line what to install and exits 2, instead of dying mid-run on `spawnSync rg ENOENT`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

interface Peer {
  name: string;
  /** How to get it: a Debian package (apt-get) or the project's own dev dependencies (npm ci). */
  install: { apt: string } | { npm: true };
  present: (root: string) => boolean;
}

const runs = (cmd: string, args: string[]) => {
  const r = spawnSync(cmd, args, { stdio: 'ignore' });
  return r.error === undefined && r.status === 0;
};

const PEERS: Peer[] = [
  { name: 'ripgrep (rg)', install: { apt: 'ripgrep' }, present: () => runs('rg', ['--version']) },
  { name: 'git', install: { apt: 'git' }, present: () => runs('git', ['--version']) },
  // Bare `git secrets` prints its usage and exits 0 once the subcommand is installed (git: 1 for an unknown one).
  { name: 'git-secrets', install: { apt: 'git-secrets' }, present: () => runs('git', ['secrets']) },
  { name: 'secretlint', install: { npm: true }, present: (root) => existsSync(path.join(root, 'node_modules/.bin/secretlint')) && existsSync(path.join(root, 'node_modules/@secretlint/secretlint-rule-preset-recommend')) },
];

/** Null when every peer is there; else the one line to print. */
export function missingPeersMessage(root: string): string | null {
  const missing = PEERS.filter((p) => !p.present(root));
  if (missing.length === 0) return null;
  const apt = missing.flatMap((p) => ('apt' in p.install ? [p.install.apt] : []));
  const how = [apt.length ? `apt-get install ${apt.join(' ')}` : '', missing.some((p) => 'npm' in p.install) ? 'npm ci (secretlint is a dev dependency)' : '']
    .filter(Boolean).join(' and ');
  return `bench/scan: missing peers: ${missing.map((p) => p.name).join(', ')}; install with: ${how}`;
}
