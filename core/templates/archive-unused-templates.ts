/**
 * The archive sweep (QueryNL draft: templates unused for 180 days are archived, not deleted). Archived templates
 * keep everything; they drop out of `templates` listings until used again (a use clears `archivedAt`). Templates
 * with an enabled schedule are in use by definition and never archived.
 */
import type { Models } from '../../models/create-models.ts';
import type { QueryTemplateFields } from '../../models/query-template.ts';
import type { TemplateStore } from './template-store.ts';
import { templateUsage } from './template-usage.ts';

export const ARCHIVE_AFTER_DAYS = 180;

type Candidate = Pick<
  QueryTemplateFields,
  '_id' | 'workspace' | 'name' | 'usageCount' | 'lastUsedAt' | 'createdAt' | 'schedules' | 'sql'
>;

/** Archives every template idle for `days` as of `now`; returns the archived names (`workspace/name`). */
export async function archiveUnusedTemplates(
  store: TemplateStore,
  models: Pick<Models, 'QueryTemplate' | 'TemplateUse'>,
  now: Date,
  days = ARCHIVE_AFTER_DAYS,
): Promise<string[]> {
  const cutoff = now.getTime() - days * 86_400_000;
  // A sweep, not a hot path: one read of the live templates.
  const live = await models.QueryTemplate.find(
    { archivedAt: null },
    { workspace: 1, name: 1, usageCount: 1, lastUsedAt: 1, createdAt: 1, schedules: 1, sql: 1 },
  ).lean<Candidate[]>();
  const archived: string[] = [];
  for (const t of live) {
    if (t.schedules?.some((s) => s.enabled)) continue;
    // The mirror may lag a use or two behind; the TemplateUse log has the exact last use.
    const { lastUsedAt } = await templateUsage(models, t);
    const idleSince = (lastUsedAt ?? t.createdAt).getTime();
    if (idleSince >= cutoff) continue;
    if (!(await store.archive(t._id, now, new Date(cutoff)))) continue;
    await store.audit({
      action: 'template.archive',
      actor: 'system',
      workspace: t.workspace,
      sql: t.sql,
      target: `QueryTemplate:${String(t._id)}`,
      detail: { name: t.name, idleSince: new Date(idleSince).toISOString(), days },
    });
    archived.push(`${t.workspace}/${t.name}`);
  }
  return archived;
}
