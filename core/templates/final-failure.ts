/** How a scheduled run's failure is told apart and written down. */
import { ThreadqlError } from '../errors.ts';

/** A failure that retrying cannot fix (no longer a read, channel no longer allowed, template broken). */
export class FinalFailure extends ThreadqlError {}

/** `code: message` of a failure, as ScheduleRun and the audit record it. */
export function describeFailure(error: unknown): string {
  return error instanceof ThreadqlError ? `${error.code}: ${error.message}` : `internal: ${String(error)}`;
}
