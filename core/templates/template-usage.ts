/**
 * Counting template uses exactly on FerretDB 1.x, where `$inc` loses increments under concurrency: each use
 * claims the next number by inserting TemplateUse `<template>:<n>` (a unique `_id`, the one write that is atomic
 * there, as for QueryHistory), so the highest claimed number is the usage count. The template's `usageCount`
 * and `lastUsedAt` mirror it, written under the template lock; a reader that needs the exact figure probes the
 * few `_id`s above the mirror.
 */
import type { Types } from 'mongoose';
import type { Models } from '../../models/create-models.ts';
import type { QueryTemplateFields } from '../../models/query-template.ts';
import { isDuplicateKeyError } from '../../models/state-machine.ts';
import { TEMPLATE_USES_KEPT, templateUseKey, type TemplateUseFields } from '../../models/template-use.ts';
import { ThreadqlError } from '../errors.ts';
import type { TemplateLock } from './template-lock.ts';
import type { TemplateSearchIndex } from './template-search-index.ts';

export interface TemplateUsage {
  usageCount: number;
  lastUsedAt: Date | null;
}

type UsageModels = Pick<Models, 'QueryTemplate' | 'TemplateUse'>;

const MAX_CLAIMS = 1000;
/** How long a use waits for the template lock to update the mirror before leaving it to the holder. */
const MIRROR_WAIT_MS = 1000;

/**
 * Records one use and returns its number (the new usage count). Also clears `archivedAt`: a template in use is
 * not idle. The mirror and the search index follow under the template lock.
 */
export async function recordTemplateUse(
  deps: { models: UsageModels; lock: TemplateLock; index?: TemplateSearchIndex },
  templateId: Types.ObjectId,
  use: { actor: string; via: 'run' | 'schedule'; at: Date },
): Promise<number> {
  const { models } = deps;
  const hint = await models.QueryTemplate.findById(templateId, { usageCount: 1 }).lean<{
    usageCount: number;
  }>();
  let n = (hint?.usageCount ?? 0) + 1;
  for (let attempt = 0; ; attempt++) {
    if (attempt >= MAX_CLAIMS)
      throw new ThreadqlError('conflict', 'Could not record the template use; try again');
    try {
      await models.TemplateUse.create({
        _id: templateUseKey(templateId, n),
        template: templateId,
        n,
        ...use,
      });
      break;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      n += 1; // taken by a concurrent use (or the mirror lags): the next number
    }
  }
  if (n > TEMPLATE_USES_KEPT)
    await models.TemplateUse.deleteOne({ _id: templateUseKey(templateId, n - TEMPLATE_USES_KEPT) });
  // The mirror is best effort: whoever holds the lock writes the exact top it can see (its own number, or a higher
  // one a concurrent use already claimed), so uses that find the lock busy need not wait for it.
  await deps.lock.tryWith(
    String(templateId),
    async () => {
      const current = await models.QueryTemplate.findById(templateId, { usageCount: 1, lastUsedAt: 1 }).lean<
        Pick<QueryTemplateFields, '_id' | 'usageCount' | 'lastUsedAt'>
      >();
      if (!current) return;
      const exact = await templateUsage(models, {
        _id: templateId,
        usageCount: Math.max(current.usageCount ?? 0, n),
        lastUsedAt: current.lastUsedAt && current.lastUsedAt > use.at ? current.lastUsedAt : use.at,
      });
      const updated = await models.QueryTemplate.findOneAndUpdate(
        { _id: templateId },
        { $set: { usageCount: exact.usageCount, lastUsedAt: exact.lastUsedAt, archivedAt: null } },
        { returnDocument: 'after' },
      ).lean<QueryTemplateFields>();
      if (updated && deps.index) await deps.index.put(updated.workspace, updated);
    },
    MIRROR_WAIT_MS,
  );
  return n;
}

/** The exact usage of a template: its mirror, corrected by probing the TemplateUse `_id`s above it. */
export async function templateUsage(
  models: UsageModels,
  template: Pick<QueryTemplateFields, '_id' | 'usageCount' | 'lastUsedAt'>,
): Promise<TemplateUsage> {
  let count = template.usageCount ?? 0;
  let lastUsedAt = template.lastUsedAt ?? null;
  for (;;) {
    const next = await models.TemplateUse.findById(
      templateUseKey(template._id, count + 1),
    ).lean<TemplateUseFields>();
    if (!next) return { usageCount: count, lastUsedAt };
    count += 1;
    if (!lastUsedAt || next.at > lastUsedAt) lastUsedAt = next.at;
  }
}
