// Runs `custos scan …` from the TypeScript sources (the bench starts it with `node --import tsx`).
import { runScanCli } from '../../src/scanner/index.js';

process.exitCode = await runScanCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdoutIsTTY: process.stdout.isTTY === true });
