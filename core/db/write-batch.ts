/**
 * The write path the SQL drivers share (DESIGN §1 step 6): a batch is split with the dialect's own parser, its
 * dry run measures every statement inside one transaction that the driver always rolls back, and its execution
 * runs the same statements in one transaction with the drift guard, so an approval of "412 rows" can never turn
 * into a silent 40,000-row change. Each driver lends an open transaction (`WriteTransaction`) and says what its
 * engine can try and undo (`DryRunRules`); what to run, in which order, and when to stop lives here, once.
 */
import { DriftError } from '../errors.ts';
import { isTransactionControl, type StatementVerdict, type Verdict } from '../safety/verdict.ts';
import type { DryRunResult, StatementImpact, WriteOptions, WriteResult } from './database-dialect.ts';

/** One open transaction on one connection, as a driver lends it to the batch runner. */
export interface WriteTransaction {
  /** Runs one statement in the open transaction and returns the rows it changed (0 for reads and most DDL). */
  run(statement: StatementVerdict): Promise<number>;
  /** EXPLAIN's row estimate for a write, where cheap; a failure must leave the transaction usable. */
  estimate?(statement: StatementVerdict): Promise<number | undefined>;
}

/** What an engine can try and undo inside a transaction that is rolled back. */
export interface DryRunRules {
  /** Undefined when the statement can be tried and undone; otherwise why not (it and the rest are then not run). */
  cannotTry(statement: StatementVerdict): string | undefined;
  /** A reason when this failure means "the engine cannot try it here" rather than "the statement is wrong". */
  untriable?(error: unknown): string | undefined;
}

/** The statements to run, or why the batch cannot run as written (then it cannot be approved either). */
export type WritePlan = { statements: StatementVerdict[] } | { unrunnable: string };

/**
 * Splits a batch for the write path with the classifier's statement list. Refused: an empty batch, a batch that
 * holds transaction control (the executor owns the transaction: a COMMIT inside would defeat rollback and the
 * drift guard), and a multi-statement batch the parser could not split. One unparsed statement is run as written:
 * the server parses it, and every driver sends one statement per call.
 */
export function planWriteBatch(text: string, verdict: Verdict): WritePlan {
  const statements = verdict.statements;
  if (statements.length === 0) return { unrunnable: 'There is no statement to run.' };
  const control = statements.findIndex(isTransactionControl);
  if (control >= 0) {
    const label = statements.length > 1 ? `Statement ${control + 1} (${statements[control]!.type})` : 'It';
    return {
      unrunnable: `${label} controls the transaction. threadql runs the whole batch in a transaction of its own; remove BEGIN, COMMIT, ROLLBACK and SAVEPOINT and send it again.`,
    };
  }
  if (statements.length === 1) {
    const only = statements[0]!;
    return { statements: [only.unparsed ? { ...only, sql: text.trim() } : only] };
  }
  const whole = text.trim();
  if (statements.some((s) => s.unparsed || s.sql === whole || s.sql === '')) {
    return {
      unrunnable:
        'The parser could not split this batch into statements, so it cannot be run safely; send the statements one at a time.',
    };
  }
  return { statements };
}

/** A dry-run result for a batch that cannot run as written: nothing was tried. */
export function unrunnableDryRun(
  text: string,
  verdict: Verdict,
  reason: string,
  started: number,
): DryRunResult {
  const statements = verdict.statements.length
    ? verdict.statements
    : [{ sql: text.trim(), verdict: verdict.verdict, type: 'UNKNOWN', reasons: [] }];
  return {
    performed: false,
    statements: statements.map((s) => ({
      sql: s.sql,
      verdict: s.verdict,
      type: s.type,
      notMeasured: 'not run: the batch cannot run as written',
    })),
    reason,
    unrunnable: reason,
    durationMs: performance.now() - started,
  };
}

/**
 * Measures each statement in order inside the driver's open transaction (which the driver rolls back). The first
 * statement the engine cannot try stops the run: later statements may depend on it, so their counts would lie.
 */
export async function measureBatch(
  statements: readonly StatementVerdict[],
  tx: WriteTransaction,
  rules: DryRunRules,
  started: number,
): Promise<DryRunResult> {
  const impacts: StatementImpact[] = [];
  let stop: string | undefined;
  for (const [i, statement] of statements.entries()) {
    const base = { sql: statement.sql, verdict: statement.verdict, type: statement.type };
    if (stop !== undefined) {
      impacts.push({ ...base, notMeasured: `not run: statement ${i} before it could not be tried` });
      continue;
    }
    const why = rules.cannotTry(statement);
    if (why !== undefined) {
      impacts.push({ ...base, notMeasured: why });
      stop = label(statements, i, why);
      continue;
    }
    const estimatedRows =
      statement.verdict === 'write' && tx.estimate ? await tx.estimate(statement) : undefined;
    try {
      const affectedRows = await tx.run(statement);
      impacts.push({
        ...base,
        affectedRows: statement.verdict === 'read' ? 0 : affectedRows,
        ...(estimatedRows === undefined ? {} : { estimatedRows }),
      });
    } catch (error) {
      const untriable = rules.untriable?.(error);
      if (untriable === undefined) throw error;
      impacts.push({ ...base, notMeasured: untriable });
      stop = label(statements, i, untriable);
    }
  }
  const measured = impacts.filter((s) => s.affectedRows !== undefined);
  return {
    performed: stop === undefined,
    statements: impacts,
    ...(measured.length ? { affectedRows: measured.reduce((sum, s) => sum + s.affectedRows!, 0) } : {}),
    ...(stop === undefined ? {} : { reason: stop }),
    durationMs: performance.now() - started,
  };
}

/** The most rows a statement may change: the dry run's count plus the tolerance, rounded down. */
export function allowedRows(expected: number, tolerance: number): number {
  return Math.floor(expected * (1 + Math.max(0, tolerance)) + 1e-9);
}

/**
 * Runs the statements in the driver's open transaction, checking each against the dry run's count: one that
 * changes more rows than allowed throws a DriftError, and the driver rolls the transaction back. The caller
 * commits. `note` names the writes the guard could not cover (the dry run did not measure them).
 */
export async function executeBatch(
  statements: readonly StatementVerdict[],
  tx: WriteTransaction,
  options: Pick<WriteOptions, 'expected' | 'driftTolerance'>,
  undone: 'rolled back' | 'not run' = 'rolled back',
): Promise<Pick<WriteResult, 'statements' | 'affectedRows' | 'note'>> {
  const expected = options.expected;
  const done: WriteResult['statements'] = [];
  const unguarded: number[] = [];
  for (const [i, statement] of statements.entries()) {
    const changed = await tx.run(statement);
    const affectedRows = statement.verdict === 'read' ? 0 : changed;
    const limit = expected?.[i];
    if (expected && limit === undefined && statement.verdict !== 'read') unguarded.push(i + 1);
    if (limit !== undefined) {
      const allowed = allowedRows(limit, options.driftTolerance ?? 0);
      if (affectedRows > allowed)
        throw driftError(statements, i, {
          expected: limit,
          actual: affectedRows,
          allowed,
          tolerance: options.driftTolerance ?? 0,
          undone,
        });
    }
    done.push({ sql: statement.sql, type: statement.type, affectedRows });
  }
  return {
    statements: done,
    affectedRows: done.reduce((sum, s) => sum + s.affectedRows, 0),
    ...(unguarded.length
      ? {
          note: `The dry run could not measure ${unguarded.length === 1 ? 'statement' : 'statements'} ${unguarded.join(', ')}, so the drift guard did not cover ${unguarded.length === 1 ? 'it' : 'them'}.`,
        }
      : {}),
  };
}

/** The DriftError for statement `i`: what it would have changed, what the dry run allowed, and that nothing stayed. */
export function driftError(
  statements: readonly Pick<StatementVerdict, 'type'>[],
  i: number,
  d: {
    expected: number;
    actual: number;
    allowed: number;
    tolerance: number;
    undone: 'rolled back' | 'not run';
  },
): DriftError {
  const who = statements.length > 1 ? `Statement ${i + 1} (${statements[i]!.type})` : 'The statement';
  const margin =
    d.tolerance > 0 ? ` (${Math.round(d.tolerance * 1000) / 10}% more allowed: at most ${d.allowed})` : '';
  return new DriftError(
    `${who} would change ${d.actual} ${d.actual === 1 ? 'row' : 'rows'}, but the dry run measured ${d.expected}${margin}. It was ${d.undone}: nothing changed.`,
    {
      detail: {
        statement: i + 1,
        expected: d.expected,
        actual: d.actual,
        allowed: d.allowed,
        tolerance: d.tolerance,
      },
    },
  );
}

function label(statements: readonly StatementVerdict[], i: number, why: string): string {
  return statements.length > 1 ? `Statement ${i + 1} (${statements[i]!.type}): ${why}` : why;
}
