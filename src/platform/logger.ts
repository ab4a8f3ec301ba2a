import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

// Paths that may carry secrets are redacted even if a caller logs a whole request by mistake.
const REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers.dpop',
  'headers.authorization',
  '*.token',
  '*.secret',
  '*.password',
  '*.masterKey',
  '*.access_token',
  '*.client_secret',
];

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const options: LoggerOptions = {
    level,
    redact: { paths: REDACT, censor: '[redacted]' },
    base: { service: 'custos' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination as pino.DestinationStream) : pino(options);
}
