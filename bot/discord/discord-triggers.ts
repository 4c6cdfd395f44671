/**
 * The newest interaction per (thread, user): Discord has ephemeral messages only as answers to an interaction,
 * so a private reply for someone goes through their latest click, modal submit or slash command in that thread.
 */
import type { ThreadRef, UserRef } from '../../core/conversation/chat-platform.ts';
import { threadKey, userKey } from '../../core/conversation/chat-platform.ts';
import type { DiscordTrigger } from './discord-trigger.ts';

/** Remembers each user's newest interaction per thread, dropping expired ones as new ones arrive. */
export class DiscordTriggers {
  readonly #triggers = new Map<string, DiscordTrigger>();

  /** The newest interaction of `user` in `thread` that can still be answered, if any. */
  live(thread: ThreadRef, user: UserRef): DiscordTrigger | undefined {
    const trigger = this.#triggers.get(key(thread, user));
    return trigger && !trigger.expired ? trigger : undefined;
  }

  remember(trigger: DiscordTrigger, thread: ThreadRef, user: UserRef): void {
    for (const [k, old] of this.#triggers) if (old.expired) this.#triggers.delete(k);
    this.#triggers.set(key(thread, user), trigger);
  }

  clear(): void {
    this.#triggers.clear();
  }
}

function key(thread: ThreadRef, user: UserRef): string {
  return `${threadKey(thread)}|${userKey(user)}`;
}
