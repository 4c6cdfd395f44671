import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

/** A message that could be SQL or a question, waiting for its author to say which (Run as SQL / Ask). */
export interface IntentChoice {
  id: string;
  threadKey: string;
  askerKey: string;
  sessionId: string;
  connectionName: string;
  /** The message as written: the question if asked, the statement if run. */
  text: string;
  /** Why it was ambiguous, as the card said. */
  reason: string;
  /** The card's message id, so a click on any copy settles the card. */
  messageId: string;
}

/**
 * Pending choices in Redis, expiring by TTL. `take` is an atomic GETDEL: of two clicks (either button, or two
 * replicas) exactly one proceeds.
 */
export class IntentChoiceStore {
  private readonly redis: Redis;
  private readonly ttlSeconds: number;
  private readonly prefix: string;

  constructor(redis: Redis, options: { ttlSeconds: number; prefix?: string }) {
    this.redis = redis;
    this.ttlSeconds = options.ttlSeconds;
    this.prefix = options.prefix ?? 'threadql:intent:';
  }

  /** Stores a choice and returns it with its token id. */
  async create(input: Omit<IntentChoice, 'id'>): Promise<IntentChoice> {
    const choice: IntentChoice = { ...input, id: randomBytes(12).toString('base64url') };
    await this.redis.set(this.prefix + choice.id, JSON.stringify(choice), 'EX', this.ttlSeconds);
    return choice;
  }

  /** Reads a choice without using it (to check who may click); undefined when expired or taken. */
  async peek(id: string): Promise<IntentChoice | undefined> {
    const raw = await this.redis.get(this.prefix + id);
    return raw ? (JSON.parse(raw) as IntentChoice) : undefined;
  }

  /** Atomically takes a choice: exactly one caller gets it. */
  async take(id: string): Promise<IntentChoice | undefined> {
    const raw = await this.redis.getdel(this.prefix + id);
    return raw ? (JSON.parse(raw) as IntentChoice) : undefined;
  }
}
