/**
 * The expiry sweep: pending requests past `expiresAt` become `expired` (FerretDB has no TTL indexes, DESIGN §6).
 * Safe to run on every replica at once: each expiry is an atomic transition, and losers skip the request.
 */
import type { ApprovalRequestFields } from '../../models/approval-request.ts';
import type { ApprovalModels } from './approval-models.ts';
import type { ApprovalRecords } from './approval-records.ts';
import { expireNow } from './decide-approval.ts';

export interface ExpiredRequest {
  request: ApprovalRequestFields;
  records: ApprovalRecords;
}

/** Expires every pending request due at `now`; returns the ones this call expired (to update their cards). */
export async function expireDueApprovals(
  models: ApprovalModels,
  now: Date,
  limit = 500,
): Promise<ExpiredRequest[]> {
  const due = await models.ApprovalRequest.find({ status: 'pending', expiresAt: { $lte: now } })
    .limit(limit)
    .lean<ApprovalRequestFields[]>();
  const expired: ExpiredRequest[] = [];
  for (const request of due) {
    const result = await expireNow(models, request, now);
    // Only the call that moved it reports it (the records are empty for one that lost the race).
    if (result.records.audit.length > 0) expired.push(result);
  }
  return expired;
}

export interface SweeperOptions {
  models: ApprovalModels;
  everyMs: number;
  now?: () => Date;
  onExpired: (expired: ExpiredRequest[]) => Promise<void>;
  onError: (error: unknown) => void;
}

/** Runs the sweep every `everyMs` until stopped; never overlaps itself; does not keep the process alive. */
export function startApprovalSweeper(options: SweeperOptions): { stop(): Promise<void> } {
  let running: Promise<void> | undefined;
  const tick = (): void => {
    if (running) return;
    running = (async () => {
      try {
        const expired = await expireDueApprovals(options.models, (options.now ?? (() => new Date()))());
        if (expired.length > 0) await options.onExpired(expired);
      } catch (error) {
        options.onError(error);
      } finally {
        running = undefined;
      }
    })();
  };
  const timer = setInterval(tick, options.everyMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
