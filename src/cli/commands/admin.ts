import { Command, Option } from 'commander';
import { loadConfig } from '../../platform/config.js';
import { MAX_TTL_SECONDS, MIN_TTL_SECONDS } from '../../operators/index.js';
import { integerIn } from '../common.js';
import { printJson, type CliIo } from '../output.js';

// `custos admin recover`: the documented way out of an admin lockout. It needs what only the host has — the
// data dir (or CUSTOS_DATABASE_URL) and the master key — opens the store directly, and mints a fresh admin
// token as system:cli_local; the recovery and the token are recorded in the audit log like any other change.

export function registerAdminCommands(program: Command, io: CliIo): void {
  const admin = program.command('admin').description('host-side administration that needs the master key, not a token');

  admin.command('recover <principal>')
    .description('mint a fresh admin token for a human (id or name) when no admin can sign in (needs the data dir and master key; audited)')
    .option('--create', 'register that human first if no principal has the name')
    .requiredOption('--reason <text>', 'why (recorded in the audit log)')
    .addOption(new Option('--ttl <seconds>', `token lifetime in seconds, ${MIN_TTL_SECONDS} to ${MAX_TTL_SECONDS}; default 43200 (12 hours)`)
      .argParser(integerIn('--ttl', MIN_TTL_SECONDS, MAX_TTL_SECONDS)))
    .option('--data-dir <dir>', 'the data dir holding the store and master key (env CUSTOS_DATA_DIR, default ./.custos)')
    .option('--database-url <url>', 'PostgreSQL store instead of the data dir\'s SQLite (env CUSTOS_DATABASE_URL)')
    .addHelpText('after', [
      '',
      'Run it on the host as the user that runs Custos, preferably with the server stopped (SQLite).',
      'The token is printed once on stdout; the audit log records operator.admin_recovered.',
      '',
      'Examples:',
      '  custos admin recover alice --reason "all admin tokens expired"',
      '  custos admin recover oncall-admin --create --reason "incident 17: admin suspended" --ttl 3600',
      '',
    ].join('\n'))
    .action(async (principal: string, o: { create?: boolean; reason: string; ttl?: number; dataDir?: string; databaseUrl?: string }, cmd: Command) => {
      const globals = cmd.optsWithGlobals() as { json?: boolean };
      const config = loadConfig({ dataDir: o.dataDir, databaseUrl: o.databaseUrl, logLevel: 'warn' }, io.env);
      const { createControlPlane } = await import('../../app.js');
      const { createLogger } = await import('../../platform/logger.js');
      const cp = await createControlPlane(config, { logger: createLogger('warn'), requireInitialised: true });
      try {
        const r = await cp.recoverAdmin({ principal, create: Boolean(o.create), reason: o.reason, ttlSeconds: o.ttl });
        if (globals.json) return printJson(io, r);
        io.stdout.write(`${r.token}\n`);
        io.stderr.write(`admin token ${r.token_id} for '${r.principal.name}'${r.created ? ' (registered now)' : ''}, expires ${r.expires_at}. Shown only this once; recorded in the audit log.\n`);
      } finally {
        await cp.close();
      }
    });
}
