import type { CliIo } from './output.js';

// Entry point of the `custos` command. Imports are lazy so each command loads only what it uses:
// `scan` works offline and should start fast; the rest are API clients, and `serve` loads the server.
// Exit codes: 0 success, 1 the request failed (the server said no, or findings were found),
// 2 usage error, 3 cannot reach the server or no credentials, 4 the store is sealed (for scan: the scan failed).

export async function main(argv: string[], io: CliIo = defaultIo()): Promise<number> {
  if (argv[0] === 'scan') {
    // The scanner parses its own arguments; the server is needed only for --report.
    const { runScanCli } = await import('../scanner/index.js');
    return runScanCli(argv.slice(1), {
      ...io,
      report: async (result, opts) => (await import('./commands/scan-report.js')).reportScan(result, opts, io.env),
    });
  }
  const { runCommands } = await import('./program.js');
  return runCommands(argv, io);
}

function defaultIo(): CliIo {
  // `custos principal list | head` closes the pipe early: that is the reader's choice, not an error.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw error;
    });
  }
  return {
    stdout: process.stdout, stderr: process.stderr, stdoutIsTTY: Boolean(process.stdout.isTTY), stderrIsTTY: Boolean(process.stderr.isTTY), env: process.env,
  };
}
