/**
 * The template search index: one Redis hash per workspace, field = template id, value = the searchable summary.
 * Why: FerretDB 1.x filters nothing but `_id` inside its storage engine, so a regex search over QueryTemplate
 * decodes every document (308–342 ms for 1,000 templates); one HGETALL and an in-process match over the summaries
 * stays far below the 150 ms target. MongoDB stays the truth: the hash is rebuilt from it whenever its `ready`
 * marker is missing (first use, or a flushed Redis).
 *
 * Correct under concurrent saves and deletes: each write touches only its own field, and a small Lua script keeps
 * the newer of the stored and the offered value (by the template's `updatedAt`; a delete leaves a tombstone
 * stamped with its time instead of removing the field). So a rebuild that read MongoDB before a concurrent save or
 * delete can neither overwrite the newer summary nor resurrect the deleted template, whatever the order.
 */
import type { Redis } from 'ioredis';
import type { QueryTemplateFields, QueryTemplateModel } from '../../models/query-template.ts';
import { describeParameter, type ParameterDefinition } from './parameter-values.ts';

/** What a search returns: enough to list templates without loading them. */
export interface TemplateSummary {
  id: string;
  /** Version: the template's updatedAt in ms (newer values win). */
  v: number;
  name: string;
  description: string;
  question: string;
  connectionName: string;
  parameters: string[];
  usageCount: number;
  lastUsedAt: string | null;
  archived: boolean;
  schedules: number;
}

interface Tombstone {
  deleted: true;
  v: number;
}

// KEYS[1] the hash; ARGV field, value, version. Writes unless the stored value has a version at least as new.
const PUT_IF_NEWER = `
local old = redis.call('hget', KEYS[1], ARGV[1])
if old then
  local ok, decoded = pcall(cjson.decode, old)
  if ok and type(decoded) == 'table' and tonumber(decoded.v) and tonumber(decoded.v) >= tonumber(ARGV[3]) then
    return 0
  end
end
redis.call('hset', KEYS[1], ARGV[1], ARGV[2])
return 1`;

export interface SearchOptions {
  limit?: number;
  /** Include templates archived after 180 idle days; default false. */
  includeArchived?: boolean;
}

/** Tombstones older than this are dropped by searches (no rebuild can be that slow). */
const TOMBSTONE_MS = 60 * 60 * 1000;
const PROJECTION = {
  name: 1,
  description: 1,
  question: 1,
  connectionName: 1,
  parameters: 1,
  usageCount: 1,
  lastUsedAt: 1,
  archivedAt: 1,
  'schedules._id': 1,
  updatedAt: 1,
} as const;

type IndexedFields = Pick<
  QueryTemplateFields,
  | '_id'
  | 'name'
  | 'description'
  | 'question'
  | 'connectionName'
  | 'parameters'
  | 'usageCount'
  | 'lastUsedAt'
  | 'archivedAt'
  | 'updatedAt'
> & { schedules?: { _id: string }[] };

/** The summary of a template as the index stores it. */
export function summarize(template: IndexedFields): TemplateSummary {
  return {
    id: String(template._id),
    v: template.updatedAt ? new Date(template.updatedAt).getTime() : 0,
    name: template.name,
    description: template.description ?? '',
    question: template.question ?? '',
    connectionName: template.connectionName ?? '',
    parameters: (template.parameters ?? []).map((p: ParameterDefinition) => describeParameter(p)),
    usageCount: template.usageCount ?? 0,
    lastUsedAt: template.lastUsedAt ? new Date(template.lastUsedAt).toISOString() : null,
    archived: Boolean(template.archivedAt),
    schedules: template.schedules?.length ?? 0,
  };
}

export class TemplateSearchIndex {
  readonly #redis: Redis;
  readonly #model: QueryTemplateModel;
  readonly #prefix: string;
  readonly #now: () => Date;

  constructor(redis: Redis, model: QueryTemplateModel, options: { prefix?: string; now?: () => Date } = {}) {
    this.#redis = redis;
    this.#model = model;
    this.#prefix = options.prefix ?? 'threadql:';
    this.#now = options.now ?? (() => new Date());
  }

  #key(workspace: string): string {
    return `${this.#prefix}template-index:${workspace}`;
  }

  /** Records a template's summary unless a newer one (or a later delete) is stored; call after the MongoDB write. */
  async put(workspace: string, template: IndexedFields): Promise<void> {
    const summary = summarize(template);
    await this.#redis.eval(
      PUT_IF_NEWER,
      1,
      this.#key(workspace),
      summary.id,
      JSON.stringify(summary),
      summary.v,
    );
  }

  /**
   * Marks a template deleted with a tombstone newer than any version it had (`lastUpdatedAt`, its updatedAt when
   * deleted); call after the MongoDB delete.
   */
  async remove(workspace: string, id: string, lastUpdatedAt?: Date | null): Promise<void> {
    const last = lastUpdatedAt ? new Date(lastUpdatedAt).getTime() : 0;
    const tombstone: Tombstone = { deleted: true, v: Math.max(this.#now().getTime(), last + 1) };
    await this.#redis.eval(PUT_IF_NEWER, 1, this.#key(workspace), id, JSON.stringify(tombstone), tombstone.v);
  }

  /**
   * Templates whose name, description or question contains every word (case-insensitive), best first: name
   * matches, then most used, then by name. No words lists the workspace's templates, most used first.
   */
  async search(workspace: string, text: string, options: SearchOptions = {}): Promise<TemplateSummary[]> {
    const entries = await this.#entries(workspace);
    const words = text.toLowerCase().split(/\s+/).filter(Boolean);
    const hits: { summary: TemplateSummary; inName: boolean }[] = [];
    for (const summary of entries) {
      if (summary.archived && !options.includeArchived) continue;
      const name = summary.name.toLowerCase();
      const all = `${name}\n${summary.description.toLowerCase()}\n${summary.question.toLowerCase()}`;
      if (words.every((w) => all.includes(w)))
        hits.push({ summary, inName: words.every((w) => name.includes(w)) });
    }
    hits.sort(
      (a, b) =>
        Number(b.inName) - Number(a.inName) ||
        b.summary.usageCount - a.summary.usageCount ||
        a.summary.name.localeCompare(b.summary.name),
    );
    return hits.slice(0, options.limit ?? 20).map((h) => h.summary);
  }

  /** Every live summary of a workspace, rebuilding the hash from MongoDB first when it is not known complete. */
  async #entries(workspace: string): Promise<TemplateSummary[]> {
    const key = this.#key(workspace);
    if (!(await this.#redis.exists(`${key}:ready`))) await this.rebuild(workspace);
    const raw = await this.#redis.hgetall(key);
    const live: TemplateSummary[] = [];
    const expired: string[] = [];
    const now = this.#now().getTime();
    for (const [id, text] of Object.entries(raw)) {
      const value = JSON.parse(text) as TemplateSummary | Tombstone;
      if ('deleted' in value) {
        if (now - value.v > TOMBSTONE_MS) expired.push(id);
      } else live.push(value);
    }
    if (expired.length) await this.#redis.hdel(key, ...expired);
    return live;
  }

  /** Refreshes the hash from MongoDB (newer versions win) and marks it complete. One full read of the workspace. */
  async rebuild(workspace: string): Promise<number> {
    const key = this.#key(workspace);
    const templates = await this.#model.find({ workspace }, PROJECTION).lean<IndexedFields[]>();
    const pipeline = this.#redis.pipeline();
    for (const t of templates) {
      const summary = summarize(t);
      pipeline.eval(PUT_IF_NEWER, 1, key, summary.id, JSON.stringify(summary), summary.v);
    }
    pipeline.set(`${key}:ready`, '1');
    await pipeline.exec();
    return templates.length;
  }
}
