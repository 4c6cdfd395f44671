import type { z } from 'zod';

/** Formats zod issues as `path: problem` lines; values are described by type only, so secrets never echo. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], prefix = ''): string[] {
  return issues.map((issue) => {
    const path = issue.path
      .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
      .join('');
    const where = prefix && path ? `${prefix}.${path}` : prefix || path || '(root)';
    return `${where}: ${issue.message}`;
  });
}
