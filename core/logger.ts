import { pino, type Logger } from 'pino';

export type { Logger };

/** Keys whose values never reach a log line, wherever they appear in a logged object. */
const SECRET_PATHS = [
  'password',
  'token',
  'secret',
  'apiKey',
  'api_key',
  'authorization',
  'url',
  'uri',
  'connectionString',
  '*.password',
  '*.token',
  '*.secret',
  '*.apiKey',
  '*.authorization',
  '*.url',
  '*.uri',
  '*.connectionString',
  'headers.authorization',
  '*.headers.authorization',
];

/** A JSON logger on stderr (stdout belongs to the shell adapter) with secrets redacted. */
export function createLogger(level: string, destination: NodeJS.WritableStream = process.stderr): Logger {
  return pino(
    { level, redact: { paths: SECRET_PATHS, censor: '[redacted]' }, base: { app: 'threadql' } },
    destination,
  );
}

/** Removes credentials from a URL so it can be shown or logged: `postgres://u:***@host/db`. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}
