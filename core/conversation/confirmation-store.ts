import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { DryRunResult } from '../db/database-dialect.ts';
import type { QueryParams } from '../db/database-dialect.ts';
import type { StatementClass } from '../safety/verdict.ts';
import type { ChartSuggestion } from './engine-ports.ts';

/** SHA-256 of a statement, hex: approvals and confirmations are bound to the exact text. */
export function sqlHash(sql: string): string {
  return createHash('sha256').update(sql, 'utf8').digest('hex');
}

export interface Confirmation {
  id: string;
  sessionId: string;
  /** History sequence number of the turn this confirms. */
  turn: number;
  threadKey: string;
  askerKey: string;
  connectionName: string;
  question: string;
  /** Chart title: the question, or empty for pasted SQL (the renderer then names the axes). */
  title: string;
  sql: string;
  sqlHash: string;
  verdict: StatementClass;
  explanation: string;
  chart?: ChartSuggestion;
  /** A write card's dry run (the counts a Request approval binds the request to). */
  impact?: DryRunResult;
  /** The confirm card's message id, so a click on any copy updates the card. */
  messageId?: string;
  /** Bound parameter values for `sql` (a template run); sent apart from the text. */
  params?: QueryParams;
  /** The template this runs, shown on the card by its own text and values; its runs count as uses. */
  template?: TemplateRun;
  expiresAt: string;
}

/** What a confirm card shows of a template run. */
export interface TemplateRun {
  id: string;
  name: string;
  /** The template's text with its `:name` placeholders (what people read; `sql` is what runs). */
  sql: string;
  /** `country=DE, since=2026-01-01`. */
  values: string;
  /** The chart title. */
  title: string;
}

export type NewConfirmation = Omit<Confirmation, 'id' | 'sqlHash' | 'expiresAt'>;

/**
 * Confirm tokens in Redis, expiring by TTL. `consume` is an atomic GETDEL, so a double click, a retried
 * interaction or two replicas racing can run a confirmed statement at most once.
 */
export class ConfirmationStore {
  private readonly redis: Redis;
  private readonly ttlSeconds: number;
  private readonly prefix: string;
  private readonly now: () => Date;

  constructor(redis: Redis, options: { ttlSeconds: number; prefix?: string; now?: () => Date }) {
    this.redis = redis;
    this.ttlSeconds = options.ttlSeconds;
    this.prefix = options.prefix ?? 'threadql:confirm:';
    this.now = options.now ?? (() => new Date());
  }

  /** Stores a new confirmation and returns it with its token id. */
  async create(input: NewConfirmation): Promise<Confirmation> {
    const id = randomBytes(12).toString('base64url');
    const confirmation: Confirmation = {
      ...input,
      id,
      sqlHash: sqlHash(input.sql),
      expiresAt: new Date(this.now().getTime() + this.ttlSeconds * 1000).toISOString(),
    };
    await this.redis.set(this.prefix + id, JSON.stringify(confirmation), 'EX', this.ttlSeconds);
    return confirmation;
  }

  /** Reads a confirmation without using it (to check who may click); undefined when expired or used. */
  async peek(id: string): Promise<Confirmation | undefined> {
    return this.verified(await this.redis.get(this.prefix + id));
  }

  /** Records the card's message id on a stored confirmation (keeps its remaining TTL). */
  async attachMessage(id: string, messageId: string): Promise<void> {
    const current = await this.peek(id);
    if (!current) return;
    await this.redis.set(this.prefix + id, JSON.stringify({ ...current, messageId }), 'KEEPTTL');
  }

  /** Atomically takes a confirmation: exactly one caller gets it; later callers get undefined. */
  async consume(id: string): Promise<Confirmation | undefined> {
    return this.verified(await this.redis.getdel(this.prefix + id));
  }

  private verified(raw: string | null): Confirmation | undefined {
    if (!raw) return undefined;
    const confirmation = JSON.parse(raw) as Confirmation;
    // The token binds the exact SQL: a stored statement whose hash no longer matches is refused.
    if (sqlHash(confirmation.sql) !== confirmation.sqlHash) return undefined;
    if (new Date(confirmation.expiresAt).getTime() <= this.now().getTime()) return undefined;
    return confirmation;
  }
}
