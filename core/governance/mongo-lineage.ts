/**
 * MongoDB → lineage: which collection fields each output field of a find or an aggregation pipeline comes from.
 * The pipeline is followed stage by stage ($match, $project, $addFields/$set, $unset, $group, $count, $unwind,
 * $sort, $limit, $skip, $sortByCount, $lookup, $bucket); an unknown stage or $replaceRoot makes what follows
 * untraced. Aggregation expressions reveal every field path (`"$email"`) they mention; `$sum: 1` and `$count`
 * reveal nothing.
 */
import type { SchemaSnapshot } from '../db/database-dialect.ts';
import { parseMongoQuery, type MongoQuery } from '../safety/mongo-query.ts';
import type { SourceColumn } from './masking-policy.ts';
import type { QueryLineage, TracedColumn } from './resolve-lineage.ts';

type Doc = Record<string, unknown>;

const isDoc = (v: unknown): v is Doc =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);

interface Field {
  sources: SourceColumn[];
  traced: boolean;
}

/** What the documents flowing between stages hold. */
interface State {
  fields: Map<string, Field>;
  /** Fields not in `fields` are the collection's own, unchanged. */
  passthrough: boolean;
  /** Fields not in `fields` may exist, from something not followed; they carry `fallback`. */
  opaque: boolean;
  fallback: SourceColumn[];
  /** Collection fields an exclusion projection or $unset removed. */
  excluded: string[];
}

const EMPTY: Omit<State, 'fields'> = { passthrough: false, opaque: false, fallback: [], excluded: [] };

class MongoTracer {
  readonly #collection: string;
  readonly #schema: Pick<SchemaSnapshot, 'tables'>;
  readonly referenced: SourceColumn[] = [];

  constructor(collection: string, schema: Pick<SchemaSnapshot, 'tables'>) {
    this.#collection = collection;
    this.#schema = schema;
  }

  collectionFields(name: string): SourceColumn[] {
    const table = this.#schema.tables.find((t) => t.name === name);
    return (table?.columns ?? []).map((c) => ({ table: name, column: c.name }));
  }

  /** The field at `path` in the current documents. */
  field(path: string, state: State): Field {
    const [head = '', ...rest] = path.split('.');
    const known = state.fields.get(head);
    let field: Field;
    if (known) field = known;
    else if (state.passthrough)
      field = { sources: [{ table: this.#collection, column: path }], traced: true };
    else if (state.opaque) field = { sources: state.fallback, traced: false };
    else field = { sources: [], traced: true };
    this.referenced.push(...field.sources);
    return known && rest.length && known.sources.length === 1 && known.traced
      ? {
          sources: [{ ...known.sources[0]!, column: `${known.sources[0]!.column}.${rest.join('.')}` }],
          traced: true,
        }
      : field;
  }

  /** Where an aggregation expression's value comes from. */
  expr(value: unknown, state: State): Field {
    if (typeof value === 'string') {
      if (value.startsWith('$$')) {
        const variable = value.slice(2).split('.')[0];
        if (variable === 'ROOT' || variable === 'CURRENT') return this.whole(state);
        return { sources: [], traced: true };
      }
      if (value.startsWith('$')) return this.field(value.slice(1), state);
      return { sources: [], traced: true };
    }
    if (Array.isArray(value)) return combine(value.map((v) => this.expr(v, state)));
    if (!isDoc(value)) return { sources: [], traced: true };
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === '$literal') return { sources: [], traced: true };
    return combine(keys.map((k) => this.expr(value[k], state)));
  }

  /** Every field of the current documents ($$ROOT). */
  whole(state: State): Field {
    const parts: Field[] = [...state.fields.values()];
    if (state.passthrough) parts.push({ sources: this.collectionFields(this.#collection), traced: true });
    if (state.opaque) parts.push({ sources: state.fallback, traced: false });
    const field = combine(parts);
    this.referenced.push(...field.sources);
    return field;
  }

  /** A find filter or $match: the fields it reads (keys that are not operators, and $expr expressions). */
  filter(value: unknown, state: State): void {
    if (Array.isArray(value)) return value.forEach((v) => this.filter(v, state));
    if (!isDoc(value)) return;
    for (const [key, inner] of Object.entries(value)) {
      if (key === '$expr') this.expr(inner, state);
      else if (key.startsWith('$')) this.filter(inner, state);
      else {
        this.field(key, state);
        this.filter(inner, state);
      }
    }
  }

  /** $project or a find projection. */
  project(spec: Doc, state: State): State {
    const entries = Object.entries(spec);
    const excluding = entries.every(([k, v]) => k === '_id' || v === 0 || v === false);
    if (excluding) {
      const fields = new Map(state.fields);
      const excluded = entries.filter(([, v]) => v === 0 || v === false).map(([k]) => k.split('.')[0]!);
      for (const name of excluded) fields.delete(name);
      return { ...state, fields, excluded: [...state.excluded, ...excluded] };
    }
    const fields = new Map<string, Field>();
    if (!entries.some(([k, v]) => k === '_id' && (v === 0 || v === false)))
      fields.set('_id', this.field('_id', state));
    for (const [key, value] of entries) {
      if (value === 0 || value === false) continue;
      const head = key.split('.')[0]!;
      const field =
        value === 1 || value === true
          ? this.field(key, state)
          : isDoc(value) && !Object.keys(value).some((k) => k.startsWith('$'))
            ? combine(Object.keys(value).map((k) => this.field(`${key}.${k}`, state)))
            : this.expr(value, state);
      const previous = fields.get(head);
      fields.set(head, previous && head !== key ? combine([previous, field]) : field);
    }
    return { ...EMPTY, fields };
  }

  stage(stage: Doc, state: State): State {
    const [name = '', spec] = Object.entries(stage)[0] ?? [];
    switch (name) {
      case '$match':
        this.filter(spec, state);
        return state;
      case '$sort':
        if (isDoc(spec)) for (const key of Object.keys(spec)) this.field(key, state);
        return state;
      case '$limit':
      case '$skip':
      case '$sample':
        return state;
      case '$unwind':
        return state;
      case '$project':
        return isDoc(spec) ? this.project(spec, state) : opaque(state);
      case '$addFields':
      case '$set': {
        if (!isDoc(spec)) return opaque(state);
        const fields = new Map(state.fields);
        for (const [key, value] of Object.entries(spec))
          fields.set(key.split('.')[0]!, this.expr(value, state));
        return { ...state, fields };
      }
      case '$unset': {
        const fields = new Map(state.fields);
        const names = Array.isArray(spec) ? spec : [spec];
        const removed = names.filter((n): n is string => typeof n === 'string').map((n) => n.split('.')[0]!);
        for (const n of removed) fields.delete(n);
        return { ...state, fields, excluded: [...state.excluded, ...removed] };
      }
      case '$group':
        return isDoc(spec) ? this.group(spec, state) : opaque(state);
      case '$count':
        return { ...EMPTY, fields: new Map([[String(spec), { sources: [], traced: true }]]) };
      case '$sortByCount':
        return {
          ...EMPTY,
          fields: new Map([
            ['_id', this.expr(spec, state)],
            ['count', { sources: [], traced: true }],
          ]),
        };
      case '$bucket':
      case '$bucketAuto': {
        if (!isDoc(spec)) return opaque(state);
        const output = isDoc(spec.output) ? spec.output : { count: { $sum: 1 } };
        return this.group({ _id: spec.groupBy, ...output }, state);
      }
      case '$lookup': {
        if (!isDoc(spec) || typeof spec.as !== 'string') return opaque(state);
        const from = typeof spec.from === 'string' ? this.collectionFields(spec.from) : [];
        if (typeof spec.localField === 'string') this.field(spec.localField, state);
        const fields = new Map(state.fields);
        // The joined documents come whole (or through a sub-pipeline not followed): all their fields.
        fields.set(spec.as.split('.')[0]!, {
          sources: from,
          traced: typeof spec.from === 'string' && !spec.pipeline,
        });
        this.referenced.push(...from);
        return { ...state, fields };
      }
      default: {
        // $replaceRoot, $replaceWith, $facet, … : what comes out is not followed.
        const inputs = this.expr(spec, state);
        return {
          ...EMPTY,
          fields: new Map(),
          opaque: true,
          fallback: [...state.fallback, ...inputs.sources],
        };
      }
    }
  }

  group(spec: Doc, state: State): State {
    const fields = new Map<string, Field>();
    for (const [key, value] of Object.entries(spec)) {
      if (key === '_id') {
        fields.set('_id', this.expr(value, state));
        continue;
      }
      const [accumulator = '', argument] = isDoc(value) ? (Object.entries(value)[0] ?? []) : [];
      fields.set(key, accumulator === '$count' ? { sources: [], traced: true } : this.expr(argument, state));
    }
    return { ...EMPTY, fields };
  }
}

function combine(parts: Field[]): Field {
  return { sources: parts.flatMap((p) => p.sources), traced: parts.every((p) => p.traced) };
}

function opaque(state: State): State {
  return { ...EMPTY, fields: new Map(), opaque: true, fallback: state.fallback };
}

/** The lineage of a MongoDB read (JSON text as the dialect runs it); throws a ValidationError when it does not parse. */
export function mongoLineage(text: string, schema: Pick<SchemaSnapshot, 'tables'>): QueryLineage {
  const query: MongoQuery = parseMongoQuery(text);
  const tracer = new MongoTracer(query.collection, schema);
  let state: State = { ...EMPTY, fields: new Map(), passthrough: true };
  let columns: TracedColumn[];
  if (query.operation === 'count') {
    tracer.filter(query.filter, state);
    columns = [{ name: 'count', sources: [], traced: true }];
  } else if (query.operation === 'distinct') {
    tracer.filter(query.filter, state);
    const field = query.field ?? '';
    columns = [{ name: field, ...tracer.field(field, state) }];
  } else {
    if (query.operation === 'find') {
      tracer.filter(query.filter, state);
      if (query.sort) for (const key of Object.keys(query.sort)) tracer.field(key, state);
      if (query.projection && Object.keys(query.projection).length)
        state = tracer.project(query.projection, state);
    } else {
      for (const stage of query.pipeline ?? []) state = tracer.stage(stage, state);
    }
    columns = [...state.fields.entries()].map(([name, field]) => ({ name, ...field }));
    if (state.passthrough) {
      // Untouched collection fields come out as they are (sub-documents whole, with their sub-fields).
      const excluded = new Set(state.excluded);
      const all = tracer.collectionFields(query.collection);
      for (const source of all) {
        const top = source.column.split('.')[0]!;
        if (source.column.includes('.') || state.fields.has(top) || excluded.has(top)) continue;
        const sources = all.filter((s) => s.column === top || s.column.startsWith(`${top}.`));
        columns.push({ name: top, sources, traced: true });
      }
    }
  }
  const known = schema.tables.some((t) => t.name === query.collection);
  return {
    columns,
    exact: false,
    referenced: tracer.referenced,
    unresolvedNames: [],
    tables: [{ name: query.collection, known }],
    ...(state.passthrough ? { passthrough: query.collection } : {}),
  };
}
