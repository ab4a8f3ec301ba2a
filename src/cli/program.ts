import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';
import { ConfigError } from '../platform/config.js';
import { SealedError } from '../platform/keys.js';
import { CliError } from './client.js';
import { registerAdminCommands } from './commands/admin.js';
import { registerApiKeyCommands } from './commands/apikey.js';
import { registerAuditCommands } from './commands/audit.js';
import { registerClientKeyCommands } from './commands/client-key.js';
import { registerClientSecretCommands } from './commands/client-secret.js';
import { registerCredentialCommands } from './commands/credential.js';
import { registerFederationCommands } from './commands/federation.js';
import { registerOAuthClientCommands } from './commands/oauth-client.js';
import { registerIdpCommands } from './commands/idp.js';
import { registerFindingCommands } from './commands/findings.js';
import { registerKeyCommands } from './commands/keys.js';
import { registerLoginCommands } from './commands/login.js';
import { registerPrincipalCommands } from './commands/principal.js';
import { registerResourceCommands } from './commands/resource.js';
import { registerServerCommands } from './commands/server.js';
import { registerTeamCommands } from './commands/team.js';
import { registerTokenCommands } from './commands/token.js';
import { registerPolicyCommands } from './commands/policy.js';
import { registerAuthzCommands } from './commands/authz.js';
import { registerGrantCommands } from './commands/grant.js';
import { registerDeviceCommands } from './commands/device.js';
import { registerRequestCommands } from './commands/request.js';
import { registerBreakGlassCommands } from './commands/breakglass.js';
import { registerReviewCommands } from './commands/review.js';
import { registerWebhookCommands } from './commands/webhook.js';
import { registerUpstreamCommands } from './commands/upstream.js';
import { registerLimitCommands } from './commands/limit.js';
import { registerMcpServerCommands } from './commands/mcp-server.js';
import type { CliIo } from './output.js';

// Every command but `scan` (see main.ts). Exit codes: 0 success, 1 the request failed (the server said no, or
// verification found a problem), 2 usage error, 3 cannot reach the server or no valid credentials (none, or one the
// server refused), 4 the store is sealed.

/** The whole command tree (but `scan`, which main.ts hands to the scanner's own parser). */
export function buildProgram(io: CliIo): Command {
  const program = new Command('custos')
    .description('Custos: AI access governance control plane and CLI')
    .option('--server <url>', 'control plane URL (env CUSTOS_SERVER, default http://127.0.0.1:8080)')
    .option('--token <token>', 'operator token or API key (env CUSTOS_TOKEN; default: the session from custos login, else bootstrap-admin.token in CUSTOS_DATA_DIR or ./.custos)')
    .option('--json', 'print JSON for scripts instead of tables')
    .version(VERSION, '-V, --version', 'print the Custos version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(s.replace(/^error: /, 'custos: ')),
    });
  program.command('scan').description('scan files, git history or images for leaked secrets (see custos scan --help)');

  registerServerCommands(program, io);
  registerLoginCommands(program, io);
  registerPrincipalCommands(program, io);
  registerTeamCommands(program, io);
  registerResourceCommands(program, io);
  registerTokenCommands(program, io);
  registerKeyCommands(program, io);
  registerCredentialCommands(program, io);
  registerClientKeyCommands(program, io);
  registerClientSecretCommands(program, io);
  registerApiKeyCommands(program, io);
  registerFederationCommands(program, io);
  registerOAuthClientCommands(program, io);
  registerIdpCommands(program, io);
  registerAuditCommands(program, io);
  registerFindingCommands(program, io);
  registerPolicyCommands(program, io);
  registerAuthzCommands(program, io);
  registerGrantCommands(program, io);
  registerDeviceCommands(program, io);
  registerRequestCommands(program, io);
  registerBreakGlassCommands(program, io);
  registerReviewCommands(program, io);
  registerWebhookCommands(program, io);
  registerUpstreamCommands(program, io);
  registerLimitCommands(program, io);
  registerMcpServerCommands(program, io);
  registerAdminCommands(program, io);
  for (const cmd of allCommands(program)) cmd.exitOverride();
  return program;
}

export async function runCommands(argv: string[], io: CliIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return 0;
      return 2;
    }
    const message = error instanceof Error ? error.message : String(error);
    io.stderr.write(`custos: ${message.split('\n')[0]}\n`);
    if (error instanceof CliError) return error.exitCode;
    if (error instanceof ConfigError) return 2;
    if (error instanceof SealedError) return 4;
    return 1;
  }
}

export function allCommands(cmd: Command): Command[] {
  return [cmd, ...cmd.commands.flatMap(allCommands)];
}
