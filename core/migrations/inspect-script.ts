/**
 * A migration script read by the safety classifier before anything runs it: its statements (split where the
 * engine splits them), the class of each, and what stops it from running at all. threadql runs every migration in
 * its own transaction, so a script may not open, commit or roll back one itself; and a statement the parser cannot
 * read cannot be split safely, so it is refused rather than guessed at.
 */
import type { DatabaseDialect } from '../db/database-dialect.ts';
import type { StatementClass, StatementVerdict } from '../safety/verdict.ts';

export interface ScriptReport {
  statements: StatementVerdict[];
  /** The most dangerous class of the script's statements. */
  verdict: StatementClass;
  /** Why the script cannot run as written; empty when it can. */
  problems: string[];
  /** Statements that change data (INSERT, UPDATE, DELETE…), by type. */
  dataWrites: string[];
  /** Statements of class `other` (SET, DO, CALL, admin functions…), by type: never tried before approval. */
  others: string[];
}

const TRANSACTION_CONTROL =
  /^(BEGIN|START TRANSACTION|COMMIT|END|ROLLBACK|ABORT|SAVEPOINT|RELEASE|PREPARE TRANSACTION|COMMIT PREPARED|ROLLBACK PREPARED|SET TRANSACTION|LOCK TABLES?|UNLOCK TABLES?)\b/i;

/** The first line of a statement, shortened, to name it in a message. */
export function statementPreview(sql: string): string {
  const line = sql.split('\n').find((l) => l.trim() !== '') ?? sql;
  const trimmed = line.trim();
  return trimmed.length > 80 ? `${trimmed.slice(0, 77)}…` : trimmed;
}

/** The class line a card shows, e.g. `ddl (CREATE INDEX)` or `write (UPDATE, DELETE)`. */
export function classLine(report: ScriptReport): string {
  const types = [...new Set(report.statements.map((s) => s.type))];
  return types.length > 0 ? `${report.verdict} (${types.join(', ')})` : report.verdict;
}

/** Classifies and checks one script (`label` is `up` or `down`, for messages). */
export async function inspectScript(
  script: string,
  dialect: DatabaseDialect,
  label: 'up' | 'down',
): Promise<ScriptReport> {
  const verdict = await dialect.classify(script);
  const statements = verdict.statements;
  const problems: string[] = [];
  if (statements.length === 0) problems.push(`the ${label} script has no statement`);
  const numbered = (i: number): string =>
    statements.length > 1 ? `statement ${i + 1} of the ${label} script` : `the ${label} script`;
  statements.forEach((s, i) => {
    if (s.unparsed) {
      problems.push(
        `${numbered(i)} could not be read by the ${dialect.capabilities.displayName} parser: ${s.reasons[0] ?? 'syntax error'}`,
      );
    } else if (TRANSACTION_CONTROL.test(s.type)) {
      problems.push(
        `${numbered(i)} is ${s.type}: threadql runs each migration in its own transaction, so remove transaction control`,
      );
    }
  });
  return {
    statements,
    verdict: verdict.verdict,
    problems,
    dataWrites: statements.filter((s) => s.verdict === 'write').map((s) => s.type),
    others: statements
      .filter((s) => s.verdict === 'other' && !s.unparsed && !TRANSACTION_CONTROL.test(s.type))
      .map((s) => s.type),
  };
}
