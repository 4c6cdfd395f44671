/**
 * MongoDB classification (DESIGN §4): only find, aggregate, count and distinct are reads, and an aggregate is a
 * read only when no stage anywhere, sub-pipelines of $lookup, $facet and $unionWith included, is `$out` or
 * `$merge` (which write a collection). Server-side JavaScript ($where, $function, $accumulator) and every other
 * operation or command (drops, index builds, runCommand, mapReduce…) is `other`, except the writes of the write
 * shape (mongo-write.ts: insert, update, delete, bulkWrite), which are `write` and go through approval.
 * The whole document is scanned, not just the stages where these operators belong, so nesting cannot hide one.
 */
import {
  describeMongoQueryShapes,
  isPlainObject,
  MONGO_READ_OPERATIONS,
  mongoQueryProblems,
  normaliseMongoCommand,
  readExtendedJson,
} from './mongo-query.ts';
import { Findings } from './findings.ts';
import { toMongoWrite } from './mongo-write.ts';
import type { Verdict } from './verdict.ts';
import { batchVerdict } from './verdict.ts';

const WRITE_STAGES: Record<string, string> = {
  $out: '$out writes the pipeline’s result into a collection',
  $merge: '$merge writes the pipeline’s result into a collection',
};

const OTHER_OPERATORS: Record<string, string> = {
  $where: '$where runs JavaScript on the server',
  $function: '$function runs JavaScript on the server',
  $accumulator: '$accumulator runs JavaScript on the server',
  $changeStream: '$changeStream opens a change stream that does not end',
  $currentOp: '$currentOp is an administrative stage',
  $listSessions: '$listSessions is an administrative stage',
  $listLocalSessions: '$listLocalSessions is an administrative stage',
  $listSampledQueries: '$listSampledQueries is an administrative stage',
  $queryStats: '$queryStats is an administrative stage',
};

/** Classifies a MongoDB query given as Extended JSON text. */
export function classifyMongoQuery(text: string): Verdict {
  const sql = text.trim();
  if (sql === '') return batchVerdict([]);
  let value: unknown;
  try {
    value = readExtendedJson(text);
  } catch (error) {
    return unparsed(sql, (error as Error).message);
  }
  if (!isPlainObject(value)) return unparsed(sql, 'a MongoDB query must be one JSON object');
  const doc = normaliseMongoCommand(value);
  const operation = typeof doc.operation === 'string' ? doc.operation : (Object.keys(doc)[0] ?? 'unknown');
  const problems = mongoQueryProblems(doc);
  const f =
    problems.length === 0
      ? new Findings('read', `${operation} reads documents; no writing stage or server-side JavaScript found`)
      : (writeFindings(value) ?? notARead(doc, operation, problems));
  scan(doc, f);
  const statement = f.toStatement(sql, operation);
  // A read operation written in a shape the dialect does not run is as good as unparsed: nothing could run it.
  return batchVerdict([isMalformedRead(doc, problems) ? { ...statement, unparsed: true } : statement]);
}

function isMalformedRead(doc: Record<string, unknown>, problems: string[]): boolean {
  if (problems.length === 0 || !('collection' in doc)) return false;
  return (
    typeof doc.operation !== 'string' || (MONGO_READ_OPERATIONS as readonly string[]).includes(doc.operation)
  );
}

function notARead(doc: Record<string, unknown>, operation: string, issues: string[]): Findings {
  if (
    typeof doc.operation === 'string' &&
    !(MONGO_READ_OPERATIONS as readonly string[]).includes(operation)
  ) {
    return new Findings(
      'other',
      `${operation} is not one of the read operations (${MONGO_READ_OPERATIONS.join(', ')})`,
    );
  }
  if (!('operation' in doc) && !('collection' in doc)) {
    return new Findings('other', `runs the ${operation} command, which is not a read`);
  }
  return new Findings(
    'other',
    `not a query shape the MongoDB dialect runs: ${issues.join('; ')}. ${describeMongoQueryShapes()}`,
  );
}

/** Raises the verdict for every writing stage or JavaScript operator anywhere in the document. */
function scan(value: unknown, f: Findings): void {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const current = stack.pop();
    if (Array.isArray(current)) {
      stack.push(...current);
    } else if (isPlainObject(current)) {
      for (const [key, child] of Object.entries(current)) {
        const write = WRITE_STAGES[key];
        const other = OTHER_OPERATORS[key];
        if (write) f.raise('write', write);
        if (other) f.raise('other', other);
        stack.push(child);
      }
    }
  }
}

function unparsed(text: string, reason: string): Verdict {
  return batchVerdict([
    { ...new Findings('other', reason).toStatement(text, 'UNPARSEABLE'), unparsed: true },
  ]);
}

/** `write` findings when the document is a write of the write shape (mongo-write.ts), else undefined. */
function writeFindings(value: Record<string, unknown>): Findings | undefined {
  try {
    const write = toMongoWrite(value);
    return new Findings('write', `${write.operation} changes documents in ${write.collection}`);
  } catch {
    return undefined;
  }
}
