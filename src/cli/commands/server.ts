import { Command } from 'commander';
import { loadConfig, SETTINGS, type ConfigInput } from '../../platform/config.js';
import type { CliIo } from '../output.js';

function configOptions(cmd: Command): Command {
  for (const s of SETTINGS) cmd.option(`${s.flag} <value>`, `${s.description} (env ${s.env}, default ${s.default})`);
  return cmd;
}

function flagsOf(o: Record<string, string | undefined>): ConfigInput {
  return { host: o.host, port: o.port, dataDir: o.dataDir, databaseUrl: o.databaseUrl, logLevel: o.logLevel, checkpointIntervalMs: o.checkpointIntervalMs, checkpointSinks: o.checkpointSink, autoRevokeLeaked: o.autoRevokeLeaked };
}

function announceBootstrap(io: CliIo, token: string, file: string): void {
  io.stderr.write([
    '',
    'Custos initialised. Bootstrap admin token (shown once; also written to ' + file + ', mode 0600):',
    '',
    `  ${token}`,
    '',
    'Use it with: export CUSTOS_TOKEN=<token>   (the CLI also reads it from the data dir)',
    '',
  ].join('\n'));
}

export function registerServerCommands(program: Command, io: CliIo, onServing?: (url: string) => void): void {
  configOptions(program.command('init').description('create the data dir, master key and bootstrap admin token'))
    .action(async (o) => {
      const config = loadConfig(flagsOf(o), io.env);
      const { createControlPlane } = await import('../../app.js');
      const cp = await createControlPlane(config, { logger: (await import('../../platform/logger.js')).createLogger('warn') });
      try {
        if (cp.bootstrap) announceBootstrap(io, cp.bootstrap.token, cp.bootstrap.tokenFile);
        else io.stdout.write(`already initialised: ${config.dataDir}\n`);
      } finally {
        await cp.close();
      }
    });

  configOptions(program.command('serve').description('run the control plane (initialises the data dir on first start)'))
    .action(async (o) => {
      const config = loadConfig(flagsOf(o), io.env);
      // Loaded lazily: client commands should not pay for the server's start-up imports.
      const { createControlPlane } = await import('../../app.js');
      const cp = await createControlPlane(config);
      if (cp.bootstrap) announceBootstrap(io, cp.bootstrap.token, cp.bootstrap.tokenFile);
      const url = await cp.listen();
      io.stderr.write(`Custos control plane listening on ${url} (store: ${cp.db.dialect === 'sqlite' ? config.dataDir : 'PostgreSQL'}; API docs at ${url}/docs)\n`);
      onServing?.(url);
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void cp.close().finally(resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
