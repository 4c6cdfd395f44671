/**
 * Verification before anyone approves (issue 10 §2): the scripts are classified, then up → down → up is run where
 * it cannot hurt and the schema is compared after each step. Where:
 * - on the connection's shadow database, rebuilt from the target's introspected schema, when one is configured;
 * - else, on engines with transactional DDL (PostgreSQL, SQLite), on the target inside one transaction that is
 *   always rolled back, each statement under `lock_timeout` and the verification statement timeout;
 * - else (MySQL/MariaDB without a shadow) not at all, and the result says so plainly.
 * A `failed` result blocks approval until the scripts are fixed; `unverified` says why it could not be tried.
 */
import { scriptChecksum, type MigrationVerification } from '../../models/migration.ts';
import type { MigrationSettings } from '../../config/config-file.ts';
import type {
  DatabaseDriver,
  SchemaSession,
  SchemaSessionOptions,
  SchemaSnapshot,
} from '../db/database-dialect.ts';
import { DatabaseError, ValidationError } from '../errors.ts';
import type { StatementVerdict } from '../safety/verdict.ts';
import { describeChange, diffSchemas } from '../schema/schema-diff.ts';
import { classLine, inspectScript, statementPreview, type ScriptReport } from './inspect-script.ts';
import type { MigrationLock } from './migration-lock.ts';
import { qualifiedMysqlNames } from './qualified-names.ts';
import { rebuildShadow, schemaSessionOf, sqlDialectOf } from './shadow-database.ts';
import { downFindings, repeatFindings } from './trial-findings.ts';

export interface VerifyInput {
  target: DatabaseDriver;
  /** The connection's shadow database, when `shadow:` is configured. */
  shadow?: DatabaseDriver;
  /** Connection name, for messages and the shadow's lock. */
  connection: string;
  up: string;
  down: string;
  settings: MigrationSettings;
  /** One verification at a time per shadow database. */
  lock: MigrationLock;
  now?: () => Date;
}

/** The stored verification plus the schema before and after up (for the ERD diff), when up ran. */
export interface VerificationOutcome extends MigrationVerification {
  before?: SchemaSnapshot;
  after?: SchemaSnapshot;
}

type Phase = 'up' | 'down' | 'up again' | 'schema';

/** The trial stopped: a statement failed (which script, which statement) or the schema could not be read. */
class TrialStop extends Error {
  readonly phase: Phase;
  readonly index: number;
  readonly statement: StatementVerdict | undefined;
  readonly error: unknown;
  constructor(phase: Phase, error: unknown, index = 0, statement?: StatementVerdict) {
    super(`${phase} failed`);
    this.phase = phase;
    this.index = index;
    this.statement = statement;
    this.error = error;
  }
}

interface Trial {
  start?: SchemaSnapshot;
  afterUp?: SchemaSnapshot;
  afterDown?: SchemaSnapshot;
  afterSecondUp?: SchemaSnapshot;
  stop?: TrialStop;
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** Lock waits, timeouts and lost connections say nothing about the scripts: the trial is inconclusive. */
function inconclusive(error: unknown): boolean {
  if (!(error instanceof DatabaseError)) return false;
  if (error.code === 'query_timeout' || error.code === 'database_unavailable') return true;
  const { sqlstate, errno, sqliteCode } = error.detail as {
    sqlstate?: string;
    errno?: number;
    sqliteCode?: string;
  };
  return sqlstate === '55P03' || errno === 1205 || /^SQLITE_(BUSY|LOCKED)/.test(sqliteCode ?? '');
}

function dataNotes(label: 'up' | 'down', report: ScriptReport): string[] {
  if (report.dataWrites.length === 0) return [];
  const types = [...new Set(report.dataWrites)].join(', ');
  return report.verdict === 'write'
    ? [`${label} only changes data (${types}): it is a data write, not a schema change`]
    : [`${label} also changes data (${types})`];
}

async function runTrial(
  driver: DatabaseDriver,
  options: SchemaSessionOptions,
  up: StatementVerdict[],
  down: StatementVerdict[],
): Promise<Trial> {
  const trial: Trial = {};
  const run = async (session: SchemaSession, phase: Phase, statements: StatementVerdict[]) => {
    for (const [i, statement] of statements.entries()) {
      try {
        await session.execute(statement.sql);
      } catch (error) {
        throw new TrialStop(phase, error, i, statement);
      }
    }
  };
  const read = async (session: SchemaSession): Promise<SchemaSnapshot> => {
    try {
      return await session.introspect();
    } catch (error) {
      throw new TrialStop('schema', error);
    }
  };
  try {
    await schemaSessionOf(driver)({ ...options, commit: false }, async (session) => {
      trial.start = await read(session);
      await run(session, 'up', up);
      trial.afterUp = await read(session);
      await run(session, 'down', down);
      trial.afterDown = await read(session);
      await run(session, 'up again', up);
      trial.afterSecondUp = await read(session);
    });
  } catch (error) {
    if (!(error instanceof TrialStop)) throw error;
    trial.stop = error;
  }
  return trial;
}

function stopMessage(stop: TrialStop, statements: number): string {
  const where =
    stop.statement && statements > 1
      ? ` (statement ${stop.index + 1}: ${statementPreview(stop.statement.sql)})`
      : '';
  const what = {
    schema: 'reading the schema failed',
    up: 'up fails',
    down: 'down fails after up',
    'up again': 'up fails when run again after down',
  }[stop.phase];
  return `${what}: ${messageOf(stop.error)}${where}`;
}

/** Verifies a migration's scripts; never throws for a script's own failure (that is a `failed` result). */
export async function verifyMigration(input: VerifyInput): Promise<VerificationOutcome> {
  const now = input.now ?? (() => new Date());
  const started = performance.now();
  const dialect = input.target.dialect;
  sqlDialectOf(input.target);
  const [upReport, downReport] = await Promise.all([
    inspectScript(input.up, dialect, 'up'),
    inspectScript(input.down, dialect, 'down'),
  ]);
  const result = (
    status: MigrationVerification['status'],
    where: MigrationVerification['where'],
    problems: string[],
    extra: Partial<VerificationOutcome> = {},
  ): VerificationOutcome => ({
    status,
    where,
    problems,
    upChanges: [],
    notes: [...dataNotes('up', upReport), ...dataNotes('down', downReport)],
    upClass: classLine(upReport),
    downClass: classLine(downReport),
    upChecksum: scriptChecksum(input.up),
    downChecksum: scriptChecksum(input.down),
    checkedAt: now(),
    durationMs: Math.round(performance.now() - started),
    ...extra,
  });

  const scriptProblems = [...upReport.problems, ...downReport.problems];
  if (scriptProblems.length > 0) return result('failed', 'none', scriptProblems);
  const others = [...new Set([...upReport.others, ...downReport.others])];
  if (others.length > 0) {
    return result('unverified', 'none', [
      `${others.join(', ')} is not tried before approval: threadql cannot be sure a rollback undoes it`,
    ]);
  }

  let trial: Trial;
  let where: MigrationVerification['where'];
  const shadowNotes: string[] = [];
  if (input.shadow) {
    const shadow = input.shadow;
    if (dialect.type === 'mysql') {
      const qualified = [
        ...new Set([...(await qualifiedMysqlNames(input.up)), ...(await qualifiedMysqlNames(input.down))]),
      ];
      if (qualified.length > 0) {
        return result('unverified', 'none', [
          `the scripts name ${qualified.join(', ')}; on the shadow database that would reach past it into a real database, so threadql did not try them`,
        ]);
      }
    }
    where = 'shadow';
    const options = {
      timeoutMs: input.settings.statementTimeoutMs,
      lockTimeoutMs: input.settings.lockTimeoutMs,
    };
    const tried = await input.lock.run(
      `shadow:${input.connection}`,
      `the shadow database of ${input.connection}`,
      async () => {
        const current = await input.target.introspect();
        try {
          shadowNotes.push(...(await rebuildShadow(shadow, current, options, input.connection)));
        } catch (error) {
          // A shadow threadql may not use (not empty, wrong engine, unreachable) is a setup problem, not the
          // scripts': the card says so, and the migration stays approvable as unverified.
          if (error instanceof ValidationError) return error;
          if (error instanceof DatabaseError && error.code === 'database_unavailable') {
            return new ValidationError(
              `The shadow database of ${input.connection} cannot be reached (${error.message}).`,
            );
          }
          throw error;
        }
        return runTrial(shadow, { ...options, commit: false }, upReport.statements, downReport.statements);
      },
    );
    if (tried instanceof ValidationError) {
      return result('unverified', 'none', [`could not verify: ${tried.message} ${tried.hint ?? ''}`.trim()]);
    }
    trial = tried;
  } else if (dialect.capabilities.transactionalDdl) {
    where = 'transaction';
    trial = await runTrial(
      input.target,
      {
        commit: false,
        timeoutMs: input.settings.verifyTimeoutMs,
        lockTimeoutMs: input.settings.lockTimeoutMs,
      },
      upReport.statements,
      downReport.statements,
    );
  } else {
    return result('unverified', 'none', [
      `could not verify: DDL commits implicitly on ${dialect.capabilities.displayName}, so threadql cannot try the migration on the live database and roll it back. Configure a shadow database for ${input.connection} (\`shadow:\` in threadql.yml) to have migrations verified there.`,
    ]);
  }

  const upChanges =
    trial.start && trial.afterUp ? diffSchemas(trial.start, trial.afterUp).map(describeChange) : [];
  const snapshots = { before: trial.start, after: trial.afterUp };
  const extra = { upChanges, ...snapshots };
  const notes = (outcome: VerificationOutcome): VerificationOutcome => {
    outcome.notes.push(...shadowNotes);
    if (upChanges.length === 0 && trial.afterUp && upReport.dataWrites.length === 0)
      outcome.notes.push('up does not change the schema');
    return outcome;
  };
  if (trial.stop) {
    const stop = trial.stop;
    const count = (stop.phase === 'down' ? downReport : upReport).statements.length;
    if (inconclusive(stop.error) || stop.phase === 'schema') {
      return notes(result('unverified', where, [`could not verify: ${stopMessage(stop, count)}`], extra));
    }
    const found = [stopMessage(stop, count)];
    if (stop.phase === 'up again' && trial.start && trial.afterUp && trial.afterDown)
      found.push(...downFindings(trial.start, trial.afterUp, trial.afterDown));
    return notes(result('failed', where, found, extra));
  }
  const problems = [
    ...downFindings(trial.start!, trial.afterUp!, trial.afterDown!),
    ...repeatFindings(trial.afterUp!, trial.afterSecondUp!),
  ];
  return notes(result(problems.length > 0 ? 'failed' : 'passed', where, problems, extra));
}
