/**
 * What a template must be before it is saved or run: well-formed parameter definitions that match the
 * placeholders its dialect's parser finds, and exactly one statement that the safety classifier calls a read
 * (judged on the bound text, which is what the driver runs).
 */
import type { DatabaseType } from '../../config/config-file.ts';
import { NeedsApprovalError, ValidationError } from '../errors.ts';
import type { Verdict } from '../safety/verdict.ts';
import { bindTemplate, checkPlaceholders } from './bind-template.ts';
import { checkParameterDefinitions, type ParameterDefinition } from './parameter-values.ts';

export interface TemplateText {
  databaseType: DatabaseType;
  sql: string;
  parameters: readonly ParameterDefinition[];
}

/** Throws a ValidationError listing every problem, or NeedsApprovalError when the statement is not a read. */
export async function checkTemplate(
  template: TemplateText,
  classify: (query: string) => Promise<Verdict>,
): Promise<Verdict> {
  const problems = [
    ...checkParameterDefinitions(template.parameters),
    ...(await checkPlaceholders(template.databaseType, template.sql, template.parameters)),
  ];
  if (problems.length) {
    throw new ValidationError(
      problems.length === 1
        ? `The template does not fit together: ${problems[0]}`
        : `The template does not fit together:\n• ${problems.join('\n• ')}`,
      { detail: { problems } },
    );
  }
  const nulls = Object.fromEntries(template.parameters.map((p) => [p.name, null]));
  const bound = await bindTemplate(template.databaseType, template.sql, template.parameters, nulls);
  const verdict = await classify(bound.query);
  if (verdict.statements.length !== 1) {
    throw new ValidationError(
      verdict.statements.length === 0
        ? 'The template has no statement to run.'
        : `A template runs one statement; this one has ${verdict.statements.length}.`,
    );
  }
  if (verdict.verdict !== 'read') {
    const reasons = verdict.reasons.length ? verdict.reasons : verdict.statements.flatMap((s) => s.reasons);
    throw new NeedsApprovalError(verdict.verdict, reasons, {
      hint: 'Only reads can be saved as templates and run on a schedule.',
    });
  }
  return verdict;
}
