import { Command } from 'commander';
import { loadConfig, SETTINGS, type ConfigInput } from '../../platform/config.js';
import type { CliIo } from '../output.js';

function configOptions(cmd: Command): Command {
  for (const s of SETTINGS) cmd.option(`${s.flag} <value>`, `${s.description} (env ${s.env}, default ${s.default})`);
  return cmd;
}

/** Commander names each option after its flag in camelCase (--checkpoint-sink → checkpointSink). */
const optionName = (flag: string) => flag.replace(/^--/, '').replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());

function flagsOf(o: Record<string, string | undefined>): ConfigInput {
  return Object.fromEntries(SETTINGS.map((s) => [s.key, o[optionName(s.flag)]])) as ConfigInput;
}

/**
 * The bootstrap token is printed only to a terminal: when stderr is a file or a pipe (a service manager, a
 * container log) it would land in a log that outlives it, so only the file's path is printed there.
 */
function announceBootstrap(io: CliIo, token: string, file: string): void {
  const lines = io.stderrIsTTY
    ? ['', `Custos initialised. Bootstrap admin token (shown once; also written to ${file}, mode 0600):`, '', `  ${token}`, '',
      'Use it with: export CUSTOS_TOKEN=<token>   (the CLI also reads it from the data dir)', '']
    : ['', `Custos initialised. The bootstrap admin token was written to ${file} (mode 0600); it is not printed because this output is not a terminal.`,
      'The CLI reads it from the data dir, or: export CUSTOS_TOKEN="$(cat ' + file + ')"', ''];
  io.stderr.write(lines.join('\n'));
}

export function registerServerCommands(program: Command, io: CliIo, onServing?: (url: string) => void): void {
  configOptions(program.command('init').description('create the data dir, master key and bootstrap admin token'))
    .addHelpText('after', '\nExample:\n  custos init --data-dir /var/lib/custos\n')
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
    .addHelpText('after', '\nExamples:\n  custos serve\n  custos serve --port 9000 --database-url postgres://custos@db:5432/custos --trusted-proxies 10.0.0.0/8\n')
    .action(async (o) => {
      const config = loadConfig(flagsOf(o), io.env);
      // Loaded lazily: client commands should not pay for the server's start-up imports.
      const { createControlPlane } = await import('../../app.js');
      const cp = await createControlPlane(config);
      if (cp.bootstrap) announceBootstrap(io, cp.bootstrap.token, cp.bootstrap.tokenFile);
      const url = await cp.listen();
      io.stderr.write(`Custos control plane listening on ${url} (store: ${cp.db.dialect === 'sqlite' ? config.dataDir : 'PostgreSQL'}; API docs at ${url}/docs)\n`);
      if (config.gatewayPort !== null) io.stderr.write(`Custos gateway listening on ${cp.gatewayUrl()} (base URL for OpenAI SDKs ${cp.gatewayUrl()}/v1, for Anthropic SDKs ${cp.gatewayUrl()}; MCP servers at ${cp.gatewayUrl()}/mcp/<name>)\n`);
      onServing?.(url);
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          const started = Date.now();
          void cp.close().then(
            () => cp.logger.info({ ms: Date.now() - started }, 'shutdown complete: last checkpoint signed, store closed'),
            (error: unknown) => cp.logger.error({ err: error }, 'shutdown failed'),
          ).finally(resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
