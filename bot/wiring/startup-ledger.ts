/**
 * What each step of createThreadql leaves behind: how to stop what it started (stopped newest first, once) and a
 * line for `threadql describe`. Steps push as soon as a resource runs, so a later failure still stops it.
 */
export interface StartupLedger {
  closers: (() => Promise<void>)[];
  lines: string[];
}
