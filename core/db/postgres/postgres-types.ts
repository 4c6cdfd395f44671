import pg from 'pg';
import type { ValueKind } from '../database-dialect.ts';

export interface PgTypeInfo {
  name: string;
  kind: ValueKind;
}

/** Built-in type OIDs (stable across PostgreSQL versions), so most results need no pg_type lookup. */
const BUILTIN: Record<number, PgTypeInfo> = {
  16: { name: 'boolean', kind: 'boolean' },
  17: { name: 'bytea', kind: 'binary' },
  18: { name: '"char"', kind: 'string' },
  19: { name: 'name', kind: 'string' },
  20: { name: 'bigint', kind: 'number' },
  21: { name: 'smallint', kind: 'number' },
  23: { name: 'integer', kind: 'number' },
  25: { name: 'text', kind: 'string' },
  26: { name: 'oid', kind: 'number' },
  114: { name: 'json', kind: 'json' },
  142: { name: 'xml', kind: 'string' },
  199: { name: 'json[]', kind: 'json' },
  650: { name: 'cidr', kind: 'string' },
  700: { name: 'real', kind: 'number' },
  701: { name: 'double precision', kind: 'number' },
  705: { name: 'unknown', kind: 'string' },
  790: { name: 'money', kind: 'string' },
  829: { name: 'macaddr', kind: 'string' },
  869: { name: 'inet', kind: 'string' },
  1000: { name: 'boolean[]', kind: 'json' },
  1005: { name: 'smallint[]', kind: 'json' },
  1007: { name: 'integer[]', kind: 'json' },
  1009: { name: 'text[]', kind: 'json' },
  1015: { name: 'character varying[]', kind: 'json' },
  1016: { name: 'bigint[]', kind: 'json' },
  1021: { name: 'real[]', kind: 'json' },
  1022: { name: 'double precision[]', kind: 'json' },
  1042: { name: 'character', kind: 'string' },
  1043: { name: 'character varying', kind: 'string' },
  1082: { name: 'date', kind: 'date' },
  1083: { name: 'time without time zone', kind: 'string' },
  1114: { name: 'timestamp without time zone', kind: 'datetime' },
  1115: { name: 'timestamp without time zone[]', kind: 'json' },
  1182: { name: 'date[]', kind: 'json' },
  1184: { name: 'timestamp with time zone', kind: 'datetime' },
  1185: { name: 'timestamp with time zone[]', kind: 'json' },
  1186: { name: 'interval', kind: 'string' },
  1231: { name: 'numeric[]', kind: 'json' },
  1266: { name: 'time with time zone', kind: 'string' },
  1560: { name: 'bit', kind: 'string' },
  1562: { name: 'bit varying', kind: 'string' },
  1700: { name: 'numeric', kind: 'number' },
  2249: { name: 'record', kind: 'string' },
  2950: { name: 'uuid', kind: 'string' },
  2951: { name: 'uuid[]', kind: 'json' },
  3614: { name: 'tsvector', kind: 'string' },
  3802: { name: 'jsonb', kind: 'json' },
  3807: { name: 'jsonb[]', kind: 'json' },
};

/** The built-in entry for an OID, if it is one. */
export function builtinPgType(oid: number): PgTypeInfo | undefined {
  return BUILTIN[oid];
}

/** Kind of a type looked up in pg_type, from its category letter (pg_type.typcategory). */
export function kindFromCategory(name: string, category: string): ValueKind {
  // regclass, regproc…: numeric OIDs on the wire, but their text form is a name.
  if (name.startsWith('reg')) return 'string';
  switch (category) {
    case 'N':
      return 'number';
    case 'B':
      return 'boolean';
    case 'D':
      return name === 'date' ? 'date' : 'datetime';
    case 'S':
    case 'E':
    case 'I':
    case 'T':
    case 'V':
      return 'string';
    case 'A':
      return 'json';
    case 'U':
      return name === 'json' || name === 'jsonb' ? 'json' : 'unknown';
    default:
      return 'unknown';
  }
}

const identity = (value: string): string => value;

/** `timestamp without time zone` read as UTC, so the value does not depend on the bot's time zone. */
function timestampAsUtc(value: string): Date | string {
  const date = new Date(`${value.replace(' ', 'T')}Z`);
  return Number.isNaN(date.getTime()) ? value : date;
}

/** `timestamp with time zone`; infinity and BC dates stay text. */
function timestampTz(value: string): Date | string {
  const parsed = pg.types.getTypeParser(1184, 'text')(value) as unknown;
  return parsed instanceof Date && !Number.isNaN(parsed.getTime()) ? parsed : value;
}

/**
 * Type parsers for query results: exact numerics and bigints stay strings (pg's default), and types whose JS form
 * would be lossy or zone-dependent stay text: date, time, interval, bytea (as `\x…` hex), money.
 */
export const resultTypeParsers = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
    switch (oid) {
      case 17: // bytea: keep the server's \x hex text
      case 1082: // date: a calendar day, not an instant
      case 1083:
      case 1266:
      case 1186: // interval
      case 790: // money
        return identity;
      case 1114:
        return timestampAsUtc;
      case 1184:
        return timestampTz;
      default:
        return pg.types.getTypeParser(oid, format ?? 'text') as (value: string) => unknown;
    }
  },
};
