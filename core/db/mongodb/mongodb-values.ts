import { Binary, Decimal128, Double, Int32, Long, ObjectId, Timestamp } from 'mongodb';
import type { ValueKind } from '../database-dialect.ts';
import { bigintToValue, binaryToHex } from '../result-values.ts';

/** The BSON type name of a value as shown to users: string, int, double, long, decimal, bool, date, objectId, object, array, binData, null. */
export function bsonTypeName(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return 'string';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'double';
  if (typeof value === 'bigint' || value instanceof Long) return 'long';
  if (value instanceof Int32) return 'int';
  if (value instanceof Double) return 'double';
  if (value instanceof Decimal128) return 'decimal';
  if (value instanceof Date) return 'date';
  if (value instanceof ObjectId) return 'objectId';
  if (value instanceof Binary || value instanceof Uint8Array) return 'binData';
  if (value instanceof Timestamp) return 'timestamp';
  if (Array.isArray(value)) return 'array';
  return 'object';
}

const KIND: Record<string, ValueKind> = {
  string: 'string',
  objectId: 'string',
  int: 'number',
  double: 'number',
  long: 'number',
  decimal: 'number',
  bool: 'boolean',
  date: 'datetime',
  object: 'json',
  array: 'json',
  binData: 'binary',
  timestamp: 'string',
};

/** The kind of a set of BSON type names (nulls ignored); mixed kinds are 'unknown'. */
export function kindOfTypes(types: Iterable<string>): ValueKind {
  const kinds = new Set([...types].filter((t) => t !== 'null').map((t) => KIND[t] ?? 'unknown'));
  if (kinds.size === 1) return [...kinds][0] ?? 'unknown';
  return kinds.size === 0 ? 'unknown' : 'unknown';
}

/** `string | null`-style text for a set of type names: sorted, null last. */
export function typeText(types: Iterable<string>): string {
  const list = [...new Set(types)];
  const named = list.filter((t) => t !== 'null').sort();
  return [...named, ...(list.includes('null') ? ['null'] : [])].join(' | ') || 'null';
}

/** A BSON value as plain data: ObjectId → hex, Decimal128/Long → exact text or number, binary → `\x…` hex. */
export function plainBson(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (value instanceof ObjectId) return value.toHexString();
  if (value instanceof Decimal128) return value.toString();
  if (value instanceof Long) return bigintToValue(value.toBigInt());
  if (typeof value === 'bigint') return bigintToValue(value);
  if (value instanceof Int32 || value instanceof Double) return value.valueOf();
  if (value instanceof Binary) return binaryToHex(value.buffer);
  if (value instanceof Uint8Array) return binaryToHex(value);
  if (value instanceof Timestamp) return value.toString();
  if (value instanceof Date) return value;
  if (Array.isArray(value)) return value.map(plainBson);
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = plainBson(v);
    return out;
  }
  return value;
}
