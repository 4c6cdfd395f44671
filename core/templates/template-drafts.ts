/**
 * A template being saved, between the save card and the click that saves it: kept in Redis under a token with a
 * TTL (like a confirm card), so any replica can answer the click, and taken with GETDEL so it is saved once.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { DatabaseType } from '../../config/config-file.ts';
import type { ParameterDefinition } from './parameter-values.ts';

export interface TemplateDraft {
  id: string;
  workspace: string;
  name: string;
  question: string;
  databaseType: DatabaseType;
  connectionName: string;
  /** Session (thread key) whose history will record the template's runs. */
  session: string | null;
  ownerKey: string;
  threadKey: string;
  /** The query as it will be saved, and its parameters. */
  sql: string;
  parameters: ParameterDefinition[];
  /** The query as the user gave it, when Claude proposed parameters for its literals (Save as is keeps it). */
  original?: { sql: string; parameters: ParameterDefinition[] };
  /** The save card, so an edit updates it in place. */
  messageId?: string;
}

export type NewDraft = Omit<TemplateDraft, 'id'>;

export class TemplateDrafts {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #ttlSeconds: number;

  constructor(redis: Redis, options: { prefix?: string; ttlSeconds?: number } = {}) {
    this.#redis = redis;
    this.#prefix = `${options.prefix ?? 'threadql:'}template-draft:`;
    this.#ttlSeconds = options.ttlSeconds ?? 30 * 60;
  }

  /** Keeps a draft; returns it with its token. */
  async create(input: NewDraft): Promise<TemplateDraft> {
    const draft = { ...input, id: randomBytes(12).toString('base64url') };
    await this.#redis.set(this.#prefix + draft.id, JSON.stringify(draft), 'EX', this.#ttlSeconds);
    return draft;
  }

  /** Replaces a live draft (after an edit), keeping its remaining time; false when it expired or was used. */
  async replace(draft: TemplateDraft): Promise<boolean> {
    return (await this.#redis.set(this.#prefix + draft.id, JSON.stringify(draft), 'KEEPTTL', 'XX')) === 'OK';
  }

  /** Reads a draft without taking it. */
  async peek(id: string): Promise<TemplateDraft | undefined> {
    const raw = await this.#redis.get(this.#prefix + id);
    return raw ? (JSON.parse(raw) as TemplateDraft) : undefined;
  }

  /** Takes a draft: exactly one caller gets it. */
  async take(id: string): Promise<TemplateDraft | undefined> {
    const raw = await this.#redis.getdel(this.#prefix + id);
    return raw ? (JSON.parse(raw) as TemplateDraft) : undefined;
  }
}
