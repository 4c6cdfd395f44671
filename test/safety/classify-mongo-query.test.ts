import { ObjectId } from 'mongodb';
import { classifyMongoQuery } from '../../core/safety/classify-mongo-query.ts';
import { formatMongoQuery, parseMongoQuery, readMongoToolQuery } from '../../core/safety/mongo-query.ts';
import { ValidationError } from '../../core/errors.ts';
import type { StatementClass } from '../../core/safety/verdict.ts';

const q = (value: unknown): string => JSON.stringify(value);
const agg = (pipeline: unknown[]): string => q({ collection: 'orders', operation: 'aggregate', pipeline });

const CASES: Array<[string, StatementClass]> = [
  [q({ collection: 'orders', operation: 'find', filter: { status: 'paid' }, limit: 20 }), 'read'],
  [
    q({
      collection: 'orders',
      operation: 'find',
      filter: {},
      projection: { _id: 0 },
      sort: { at: -1 },
      skip: 5,
    }),
    'read',
  ],
  [q({ collection: 'orders', operation: 'count', filter: { total: { $gt: 10 } } }), 'read'],
  [q({ collection: 'orders', operation: 'distinct', field: 'country' }), 'read'],
  [
    agg([
      { $match: { status: 'paid' } },
      { $group: { _id: '$country', n: { $sum: 1 } } },
      { $sort: { n: -1 } },
    ]),
    'read',
  ],
  [agg([{ $lookup: { from: 'customers', localField: 'c', foreignField: '_id', as: 'c' } }]), 'read'],
  [q({ find: 'orders', filter: { a: 1 }, limit: 3 }), 'read'],
  [q({ aggregate: 'orders', pipeline: [{ $match: {} }], cursor: {} }), 'read'],
  [q({ count: 'orders', query: { a: 1 } }), 'read'],
  [q({ distinct: 'orders', key: 'country' }), 'read'],
  [
    '{"collection":"o","operation":"find","filter":{"_id":{"$oid":"5f1d7f1f1f1f1f1f1f1f1f1f"},"at":{"$gte":{"$date":"2024-01-01T00:00:00Z"}}}}',
    'read',
  ],
  // writes: a pipeline that writes a collection, wherever the stage hides
  [agg([{ $match: {} }, { $out: 'copy' }]), 'write'],
  [agg([{ $merge: { into: 'copy' } }]), 'write'],
  [agg([{ $facet: { a: [{ $match: {} }], b: [{ $out: 'x' }] } }]), 'write'],
  [agg([{ $lookup: { from: 'b', pipeline: [{ $merge: { into: 'x' } }], as: 'q' } }]), 'write'],
  [agg([{ $unionWith: { coll: 'b', pipeline: [{ $out: 'x' }] } }]), 'write'],
  [q({ aggregate: 'orders', pipeline: [{ $out: 'x' }], cursor: {} }), 'write'],
  // other: server-side JavaScript, every other operation or command, anything malformed
  [q({ collection: 'o', operation: 'find', filter: { $where: 'sleep(1000) || true' } }), 'other'],
  [
    q({
      collection: 'o',
      operation: 'find',
      filter: { $expr: { $function: { body: 'f', args: [], lang: 'js' } } },
    }),
    'other',
  ],
  [
    agg([{ $group: { _id: null, x: { $accumulator: { init: 'f', accumulate: 'g', lang: 'js' } } } }]),
    'other',
  ],
  [agg([{ $changeStream: {} }]), 'other'],
  [agg([{ $currentOp: {} }]), 'other'],
  [q({ collection: 'o', operation: 'insertOne', document: { a: 1 } }), 'write'],
  [q({ collection: 'o', operation: 'updateMany', filter: {}, update: { $set: { a: 1 } } }), 'write'],
  [q({ collection: 'o', operation: 'deleteMany', filter: {} }), 'write'],
  // Writes of the write shape (mongo-write.ts) go through approval; what a count cannot measure stays other.
  [q({ collection: 'o', operation: 'updateOne', filter: {}, update: { a: 1 } }), 'other'],
  [
    q({ collection: 'o', operation: 'updateOne', filter: {}, update: { $set: { a: 1 } }, upsert: true }),
    'other',
  ],
  [q({ collection: 'o', operation: 'deleteMany', filter: { $where: 'true' } }), 'other'],
  [q({ collection: 'o', operation: 'drop' }), 'other'],
  [q({ collection: 'o', operation: 'createIndex', keys: { a: 1 } }), 'other'],
  [q({ collection: 'o', operation: 'mapReduce', map: 'function(){}', reduce: 'function(){}' }), 'other'],
  [q({ collection: 'o', operation: 'runCommand', command: { dropDatabase: 1 } }), 'other'],
  [q({ insert: 'o', documents: [{ a: 1 }] }), 'write'],
  [q({ update: 'o', updates: [{ q: {}, u: { $set: { a: 1 } } }] }), 'write'],
  [q({ delete: 'o', deletes: [{ q: {}, limit: 0 }] }), 'write'],
  [q({ drop: 'o' }), 'other'],
  [q({ createIndexes: 'o', indexes: [] }), 'other'],
  [q({ findAndModify: 'o', query: {}, remove: true }), 'other'],
  [q({ collection: 'o', operation: 'find', filter: {}, upsert: true }), 'other'],
  [q({ collection: 'o', operation: 'distinct' }), 'other'],
  [q({ collection: 'o', operation: 'aggregate' }), 'other'],
  [q({ collection: 'o', operation: 'find', pipeline: [] }), 'other'],
  [q({ find: 'o', filter: {}, writeConcern: { w: 1 } }), 'other'],
  [q({ operation: 'find', filter: {} }), 'other'],
  ['db.orders.find({})', 'other'],
  ['[{"$match": {}}]', 'other'],
  ['{"collection": "o", "operation": "find",', 'other'],
  ['', 'other'],
];

describe('MongoDB query classification', () => {
  test.each(CASES)('%s is %s', (text, expected) => {
    const verdict = classifyMongoQuery(text);
    expect(verdict.verdict).toBe(expected);
    expect(verdict.reasons.length).toBeGreaterThan(0);
  });

  test('the verdict names the operation and the stage that makes it a write', () => {
    const verdict = classifyMongoQuery(agg([{ $facet: { a: [{ $out: 'x' }] } }]));
    expect(verdict.statements).toEqual([
      expect.objectContaining({
        type: 'aggregate',
        verdict: 'write',
        reasons: ['$out writes the pipeline’s result into a collection'],
      }),
    ]);
  });

  test('parseMongoQuery gives the driver a validated query with BSON values', () => {
    const query = parseMongoQuery(
      '{"aggregate":"orders","pipeline":[{"$match":{"_id":{"$oid":"5f1d7f1f1f1f1f1f1f1f1f1f"}}}],"cursor":{}}',
    );
    expect(query).toEqual({
      collection: 'orders',
      operation: 'aggregate',
      pipeline: [{ $match: { _id: new ObjectId('5f1d7f1f1f1f1f1f1f1f1f1f') } }],
    });
    expect(parseMongoQuery('{"collection":"o","operation":"distinct","field":"c","filter":{"a":1}}')).toEqual(
      {
        collection: 'o',
        operation: 'distinct',
        field: 'c',
        filter: { a: 1 },
      },
    );
  });

  test('parseMongoQuery refuses what is not a read query, saying why', () => {
    expect(() => parseMongoQuery('{"collection":"o","operation":"deleteMany"}')).toThrow(ValidationError);
    expect(() => parseMongoQuery('{"collection":"o","operation":"distinct"}')).toThrow(
      /field: distinct needs a field/,
    );
    expect(() => parseMongoQuery('not json')).toThrow(/Extended JSON/);
    expect(() => parseMongoQuery('[1]')).toThrow(/JSON object/);
  });

  test('the canonical text parses back to the same query, and classifies as the query does', () => {
    const queries = [
      '{"find":"orders","filter":{"at":{"$gte":{"$date":"2024-01-01T00:00:00Z"}}},"sort":{"at":-1},"limit":5}',
      '{"aggregate":"orders","pipeline":[{"$match":{"_id":{"$oid":"5f1d7f1f1f1f1f1f1f1f1f1f"}}},{"$count":"n"}],"cursor":{}}',
      '{"count":"orders","query":{"total":{"$numberDecimal":"9.99"}}}',
      '{"collection":"o","operation":"distinct","field":"c"}',
      '{"collection":"o","operation":"aggregate","pipeline":[]}',
    ];
    for (const text of queries) {
      const query = parseMongoQuery(text);
      const canonical = formatMongoQuery(query);
      expect(parseMongoQuery(canonical)).toEqual(query);
      expect(formatMongoQuery(parseMongoQuery(canonical))).toBe(canonical);
      expect(classifyMongoQuery(canonical).verdict).toBe('read');
    }
    expect(formatMongoQuery(parseMongoQuery(queries[1]!))).toBe(
      [
        '{',
        '  "collection": "orders",',
        '  "operation": "aggregate",',
        '  "pipeline": [',
        '    {"$match":{"_id":{"$oid":"5f1d7f1f1f1f1f1f1f1f1f1f"}}},',
        '    {"$count":"n"}',
        '  ]',
        '}',
      ].join('\n'),
    );
  });

  test('a tool input is the shape or a command, never both, and errors name the field and the shapes', () => {
    expect(readMongoToolQuery({ command: { distinct: 'o', key: 'k' } })).toEqual({
      collection: 'o',
      operation: 'distinct',
      field: 'k',
    });
    expect(
      readMongoToolQuery({
        collection: 'o',
        operation: 'find',
        filter: { at: { $date: '2024-01-01T00:00:00Z' } },
      }),
    ).toEqual({ collection: 'o', operation: 'find', filter: { at: new Date('2024-01-01T00:00:00Z') } });
    expect(() => readMongoToolQuery({ collection: 'o', command: { find: 'o' } })).toThrow(
      /either command or collection and operation, not both/,
    );
    expect(() => readMongoToolQuery({ command: { insert: 'o', documents: [] } })).toThrow(
      /command must be a read command/,
    );
    expect(() => readMongoToolQuery({ collection: 'o', operation: 'find', pipeline: [] })).toThrow(
      /find takes no pipeline \(it takes filter, projection, sort, limit, skip\).*Accepted shapes/,
    );
    expect(() => readMongoToolQuery({ operation: 'count' })).toThrow(/collection is missing/);
  });
});
