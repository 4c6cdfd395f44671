import type { FieldPacket } from 'mysql2';
import type { ResultColumn, ValueKind } from '../database-dialect.ts';

const BINARY_CHARSET = 63;

/** Wire type code → [text name, binary name, kind] (mysql2's Types codes). */
const TYPES: Record<number, [string, string, ValueKind]> = {
  0: ['decimal', 'decimal', 'number'],
  1: ['tinyint', 'tinyint', 'number'],
  2: ['smallint', 'smallint', 'number'],
  3: ['int', 'int', 'number'],
  4: ['float', 'float', 'number'],
  5: ['double', 'double', 'number'],
  6: ['null', 'null', 'unknown'],
  7: ['timestamp', 'timestamp', 'datetime'],
  8: ['bigint', 'bigint', 'number'],
  9: ['mediumint', 'mediumint', 'number'],
  10: ['date', 'date', 'date'],
  11: ['time', 'time', 'string'],
  12: ['datetime', 'datetime', 'datetime'],
  13: ['year', 'year', 'number'],
  14: ['date', 'date', 'date'],
  15: ['varchar', 'varbinary', 'string'],
  16: ['bit', 'bit', 'binary'],
  245: ['json', 'json', 'json'],
  246: ['decimal', 'decimal', 'number'],
  247: ['enum', 'enum', 'string'],
  248: ['set', 'set', 'string'],
  249: ['tinytext', 'tinyblob', 'string'],
  250: ['mediumtext', 'mediumblob', 'string'],
  251: ['longtext', 'longblob', 'string'],
  252: ['text', 'blob', 'string'],
  253: ['varchar', 'varbinary', 'string'],
  254: ['char', 'binary', 'string'],
  255: ['geometry', 'geometry', 'binary'],
};

/** A result column from mysql2's field packet: MariaDB's extended names (uuid, inet6, json) win when present. */
export function mysqlColumn(field: FieldPacket): ResultColumn {
  const code = field.columnType ?? field.type ?? -1;
  const entry = TYPES[code];
  const binary = field.characterSet === BINARY_CHARSET;
  if (field.extendedFormat === 'json') return { name: field.name, type: 'json', kind: 'json' };
  if (field.extendedTypeName) return { name: field.name, type: field.extendedTypeName, kind: 'string' };
  if (!entry) return { name: field.name, type: `type ${code}`, kind: 'unknown' };
  const [textName, binaryName, kind] = entry;
  return {
    name: field.name,
    type: binary ? binaryName : textName,
    // BLOB/BINARY/VARBINARY share codes with text types; the binary charset tells them apart.
    kind: binary && kind === 'string' && code !== 247 && code !== 248 ? 'binary' : kind,
  };
}
