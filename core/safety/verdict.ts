/** Classes of statement, from safest to most dangerous; a batch takes the most dangerous of its statements. */
export const STATEMENT_CLASSES = ['read', 'write', 'ddl', 'other'] as const;
export type StatementClass = (typeof STATEMENT_CLASSES)[number];

/**
 * The reason every classifier gives a transaction-control statement (BEGIN, COMMIT, SAVEPOINT…): the write path
 * runs a batch in a transaction of its own, so a batch holding one is refused rather than run.
 */
export const TRANSACTION_CONTROL = 'controls the transaction, which the executor owns';

/** True when the statement begins, ends or marks a transaction (which the executor owns). */
export function isTransactionControl(statement: StatementVerdict): boolean {
  return statement.reasons.includes(TRANSACTION_CONTROL);
}

export interface StatementVerdict {
  /** The statement's text as it appears in the input (trimmed). */
  sql: string;
  verdict: StatementClass;
  /** The statement's kind as the parser names it, e.g. SELECT, UPDATE, CREATE INDEX, SET. */
  type: string;
  reasons: string[];
  /** Set when the parser could not read the statement (so it is `other`, and may be prose, not SQL). */
  unparsed?: true;
}

/** What `threadql check-sql` prints, one JSON line. */
export interface Verdict {
  verdict: StatementClass;
  statements: StatementVerdict[];
  reasons: string[];
}

const RANK: Record<StatementClass, number> = { read: 0, write: 1, ddl: 2, other: 3 };

/** The most dangerous of the given classes (`other` > `ddl` > `write` > `read`); an empty batch is `other`. */
export function mostDangerous(classes: Iterable<StatementClass>): StatementClass {
  let worst: StatementClass | undefined;
  for (const c of classes) if (worst === undefined || RANK[c] > RANK[worst]) worst = c;
  return worst ?? 'other';
}

/**
 * A batch's verdict: the most dangerous class of its statements, with the reasons of every statement that is not a
 * read (or of all statements when all are reads). An empty batch (nothing but whitespace or comments) is `other`:
 * there is nothing to run, and nothing may run unapproved by accident.
 */
export function batchVerdict(statements: StatementVerdict[]): Verdict {
  if (statements.length === 0) {
    return {
      verdict: 'other',
      statements: [],
      reasons: ['no statement found (empty input or only comments)'],
    };
  }
  const verdict = mostDangerous(statements.map((s) => s.verdict));
  const label = (s: StatementVerdict, i: number, r: string): string =>
    statements.length > 1 ? `statement ${i + 1} (${s.type}): ${r}` : r;
  const reasons = statements.flatMap((s, i) =>
    verdict === 'read' || s.verdict !== 'read' ? s.reasons.map((r) => label(s, i, r)) : [],
  );
  return { verdict, statements, reasons };
}
