import type { Db, Document } from 'mongodb';
import type {
  ColumnInfo,
  IndexInfo,
  RelationshipInfo,
  SchemaSnapshot,
  TableInfo,
} from '../database-dialect.ts';
import { bsonTypeName, typeText } from './mongodb-values.ts';

export interface MongoIntrospectOptions {
  /** Documents sampled per collection (the newest by _id order is not assumed: the first N found). */
  sampleSize: number;
  /** Nested document fields are listed as `a.b` down to this depth (1 = top level only). */
  maxDepth: number;
  /** Collections sampled at once. */
  concurrency: number;
}

type FieldStats = { types: Set<string>; seen: number };

/** Merges one document's fields into `fields` (dotted paths for sub-documents). */
function collect(
  doc: Document,
  fields: Map<string, FieldStats>,
  prefix: string,
  depth: number,
  maxDepth: number,
): void {
  for (const [key, value] of Object.entries(doc)) {
    const path = prefix ? `${prefix}.${key}` : key;
    const stats = fields.get(path) ?? { types: new Set<string>(), seen: 0 };
    fields.set(path, stats);
    const type = bsonTypeName(value);
    stats.types.add(type);
    stats.seen += 1;
    if (type === 'object' && depth < maxDepth) collect(value as Document, fields, path, depth + 1, maxDepth);
  }
}

/** Columns from sampled documents: a field missing from some documents is nullable (`… | null`). */
export function inferColumns(docs: readonly Document[], maxDepth: number): ColumnInfo[] {
  const fields = new Map<string, FieldStats>();
  for (const doc of docs) collect(doc, fields, '', 1, maxDepth);
  return [...fields.entries()].map(([name, stats]) => {
    // A sub-document field is only "missing" relative to documents that have its parent; counting all is simpler
    // and errs on the side of nullable.
    const nullable = stats.types.has('null') || stats.seen < docs.length;
    if (nullable) stats.types.add('null');
    return { name, type: typeText(stats.types), nullable, isPrimaryKey: name === '_id' };
  });
}

/** Candidate collection names for a reference field: customerId / customer_id → customer, customers, … */
function referencedCollection(field: string, collections: ReadonlyMap<string, string>): string | undefined {
  const match = /^(.+?)(?:_id|Id|ID)$/.exec(field);
  if (!match?.[1] || field === '_id') return undefined;
  const stem = match[1].toLowerCase();
  const candidates = [stem, `${stem}s`, `${stem}es`, stem.endsWith('y') ? `${stem.slice(0, -1)}ies` : ''];
  for (const c of candidates) {
    const name = c && collections.get(c);
    if (name) return name;
  }
  return undefined;
}

/** Relationships inferred from `xxxId` fields whose name matches a collection and whose type matches its `_id`. */
export function inferRelationships(tables: readonly TableInfo[]): RelationshipInfo[] {
  const byLower = new Map(tables.map((t) => [t.name.toLowerCase(), t.name]));
  const idType = new Map(tables.map((t) => [t.name, t.columns.find((c) => c.name === '_id')?.type ?? '']));
  const relationships: RelationshipInfo[] = [];
  for (const table of tables) {
    for (const column of table.columns) {
      if (column.name.includes('.')) continue;
      const target = referencedCollection(column.name, byLower);
      if (!target) continue;
      const targetTypes = new Set((idType.get(target) ?? '').split(' | '));
      const compatible = column.type.split(' | ').some((t) => t !== 'null' && targetTypes.has(t));
      if (!compatible) continue;
      relationships.push({
        name: `${table.name}.${column.name}`,
        fromTable: table.name,
        fromColumns: [column.name],
        toTable: target,
        toColumns: ['_id'],
        cardinality: 'many-to-one',
      });
    }
  }
  return relationships;
}

/**
 * Introspects by sampling: one listCollections, then per collection one sample `find` and one `listIndexes`
 * (MongoDB has no catalog of fields), run a few collections at a time.
 */
export async function introspectMongo(db: Db, options: MongoIntrospectOptions): Promise<SchemaSnapshot> {
  const listed = await db.listCollections({}, { nameOnly: false }).toArray();
  const names = listed
    .map((c) => ({ name: c.name, view: c.type === 'view' }))
    .filter((c) => !c.name.startsWith('system.'))
    .sort((a, b) => a.name.localeCompare(b.name));
  let queries = 1;
  const tables: TableInfo[] = new Array(names.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < names.length; i = next++) {
      const entry = names[i];
      if (!entry) continue;
      const collection = db.collection(entry.name);
      const docs = await collection.find({}, { limit: options.sampleSize }).toArray();
      queries += 1;
      let indexes: IndexInfo[] = [];
      if (!entry.view) {
        const raw = await collection.listIndexes().toArray();
        queries += 1;
        indexes = raw.map((ix) => ({
          name: String(ix.name),
          columns: Object.keys((ix.key ?? {}) as Document),
          unique: ix.unique === true || ix.name === '_id_',
          primary: ix.name === '_id_',
        }));
      }
      const columns = inferColumns(docs, options.maxDepth);
      tables[i] = {
        name: entry.name,
        kind: entry.view ? 'view' : 'collection',
        columns,
        primaryKey: columns.some((c) => c.name === '_id') ? ['_id'] : [],
        foreignKeys: [],
        indexes,
      };
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker));
  return {
    databaseType: 'mongodb',
    tables,
    relationships: inferRelationships(tables),
    introspectedAt: new Date(),
    catalogQueries: queries,
  };
}
