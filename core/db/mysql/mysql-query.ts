import type { FieldPacket, PoolConnection } from 'mysql2';
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

/** A pull-based reader over mysql2's row stream: the connection pauses while the buffer is full. */
export function rowReader(conn: PoolConnection, sql: string, highWaterMark: number): RowReader {
  const query = conn.query({ sql, rowsAsArray: true });
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
