import type { FieldPacket, PoolConnection } from 'mysql2';
import type { BoundValue } from '../database-dialect.ts';
import { plainValue } from '../result-values.ts';

export type RowReader = {
  next(count: number): Promise<{ rows: unknown[][]; done: boolean }>;
  fields(): FieldPacket[];
};

/** Runs one statement on a connection. */
export function run(conn: PoolConnection, sql: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    conn.query(sql, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

/** Prepares and executes one statement with bound values. */
export function prepared(conn: PoolConnection, sql: string, values: BoundValue[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    conn.execute(sql, values, (error, result) => (error ? reject(error) : resolve(result)));
  });
}

/**
 * A pull-based reader over mysql2's row stream: the connection pauses while the buffer is full. With parameters the
 * statement is prepared and executed (binary protocol), so values travel apart from the text, never spliced in.
 */
export function rowReader(
  conn: PoolConnection,
  sql: string,
  highWaterMark: number,
  params?: BoundValue[],
): RowReader {
  const query = params
    ? conn.execute({ sql, values: params, rowsAsArray: true })
    : conn.query({ sql, rowsAsArray: true });
  let fields: FieldPacket[] = [];
  query.on('fields', (f: FieldPacket[]) => {
    fields = f ?? [];
  });
  const iterator = query.stream({ highWaterMark })[Symbol.asyncIterator]();
  return {
    fields: () => fields,
    async next(count) {
      const rows: unknown[][] = [];
      while (rows.length < count) {
        const item = await iterator.next();
        if (item.done) return { rows, done: true };
        // DML answers with a result header instead of rows; only arrays are rows (rowsAsArray).
        if (Array.isArray(item.value)) rows.push(item.value.map(plainValue));
      }
      return { rows, done: false };
    },
  };
}
