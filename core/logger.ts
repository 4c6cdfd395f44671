import { Writable } from 'node:stream';
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

/** Longest string a log line carries per field; user input can be 80 KB and a log line must not be. */
export const LOG_TEXT_MAX = 500;

/** `text` cut to `max` characters, saying how long it was: `SELECT … (41,233 chars)`. */
export function clipText(text: string, max = LOG_TEXT_MAX): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}… (${text.length.toLocaleString('en-US')} chars)`;
}

/** Clips every string in a logged object (two levels deep, where inputs and error messages sit). */
function clipFields(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return clipText(value);
  if (depth >= 2 || value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  // Errors go through the err serializer (which clips their message) and must reach it whole.
  if (value instanceof Error) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = clipFields(v, depth + 1);
  return out;
}

function clipError(error: unknown): unknown {
  const serialized = pino.stdSerializers.err(error as Error) as unknown as Record<string, unknown>;
  if (typeof serialized.message === 'string') serialized.message = clipText(serialized.message);
  if (typeof serialized.stack === 'string') {
    // The stack's first line repeats the message: clip that part too, keep the frames.
    const frames = serialized.stack.search(/\n\s+at /);
    serialized.stack =
      frames > 0
        ? clipText(serialized.stack.slice(0, frames)) + clipText(serialized.stack.slice(frames), 4000)
        : clipText(serialized.stack, 4000);
  }
  return serialized;
}

/**
 * A JSON logger on stderr (stdout belongs to the shell adapter) with secrets redacted and long strings (user
 * input, engine messages quoting it) cut to LOG_TEXT_MAX with their length.
 */
export function createLogger(level: string, destination: NodeJS.WritableStream = process.stderr): Logger {
  return pino(
    {
      level,
      redact: { paths: SECRET_PATHS, censor: '[redacted]' },
      base: { app: 'threadql' },
      serializers: { err: clipError, error: clipError },
      formatters: { log: (object) => clipFields(object) as Record<string, unknown> },
      hooks: {
        logMethod(args, method) {
          const clipped = args.map((a) => (typeof a === 'string' ? clipText(a) : a));
          return method.apply(this, clipped as Parameters<typeof method>);
        },
      },
    },
    destination,
  );
}

const LEVEL_NAMES: Record<number, string> = {
  10: 'trace',
  20: 'debug',
  30: 'info',
  40: 'warning',
  50: 'error',
  60: 'fatal',
};

/**
 * A destination that prints each JSON log line as one plain line, `threadql: warning: message (key: value)`, for the
 * terminal shell, where logs share the screen with the conversation and must read like the rest of its output.
 */
export function textLogStream(out: NodeJS.WritableStream): NodeJS.WritableStream {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (!line.trim()) continue;
        let entry: Record<string, unknown>;
        try {
          entry = JSON.parse(line) as Record<string, unknown>;
        } catch {
          out.write(`${line}\n`);
          continue;
        }
        const { level, msg, time: _time, app: _app, pid: _pid, hostname: _host, err, ...rest } = entry;
        const name = LEVEL_NAMES[Number(level)] ?? 'log';
        const fields = Object.entries(rest).map(
          ([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`,
        );
        if (err && typeof err === 'object' && 'message' in err) fields.push(`error: ${String(err.message)}`);
        const prefix = name === 'info' ? 'threadql: ' : `threadql: ${name}: `;
        out.write(`${prefix}${String(msg ?? '')}${fields.length ? ` (${fields.join(', ')})` : ''}\n`);
      }
      done();
    },
  });
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
