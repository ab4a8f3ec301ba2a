import type { Command } from 'commander';
import type { SigningKeyView } from '../../credentials/signing-keys.schemas.js';
import { defined, examples, withClient } from '../common.js';
import { printJson, printTable, type CliIo } from '../output.js';

// custos keys: the token-signing keys (never their private halves, which never leave the server sealed).

export function registerKeyCommands(program: Command, io: CliIo): void {
  const keys = program.command('keys').description('token-signing keys: list them and rotate the active one');

  keys.command('list').description('list the signing keys and their rotation state (active, retiring, retired)')
    .addHelpText('after', examples('custos keys list', 'custos keys list --json'))
    .action(withClient(io, async (client, g) => {
      const { items } = await client.request<{ items: SigningKeyView[] }>('GET', '/v1/signing-keys');
      if (g.json) return printJson(io, { items });
      printTable(io, ['KID', 'ALG', 'STATUS', 'CREATED', 'ROTATE AT', 'VERIFIES UNTIL', 'RETIRED'],
        items.map((k) => [k.kid, k.alg, k.status, k.created_at, k.status === 'active' ? k.rotate_at : '', k.verify_until ?? '', k.retired_at ?? '']));
    }));

  keys.command('rotate').description('replace the active signing key now; the old key keeps verifying until the tokens it signed expire')
    .option('--reason <text>', 'why (recorded in the audit log)')
    .addHelpText('after', examples('custos keys rotate --reason "scheduled drill"'))
    .action(withClient(io, async (client, g, o) => {
      const r = await client.request<{ kid: string; retiring: string[] }>('POST', '/v1/signing-keys/rotate', defined({ reason: o.reason }));
      if (g.json) return printJson(io, r);
      io.stdout.write(`new signing key ${r.kid}\n`);
      for (const kid of r.retiring) io.stdout.write(`retiring ${kid} (verifies the tokens it signed until they expire)\n`);
    }));
}
