/**
 * Runs work for one thread at a time, in arrival order, while different threads run concurrently.
 * Turns in one thread must not interleave (a follow-up needs the previous turn's context).
 */
export class ThreadQueue {
  private readonly tails = new Map<string, Promise<void>>();

  /** Queues `work` behind earlier work for the same key; resolves when it has run. */
  run(key: string, work: () => Promise<void>): Promise<void> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.then(work, work);
    const tail = next.catch(() => {});
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }

  /** Resolves when all queued work has finished. */
  async idle(): Promise<void> {
    while (this.tails.size) await Promise.all(this.tails.values());
  }
}
