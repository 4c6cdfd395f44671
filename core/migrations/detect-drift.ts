/**
 * Drift between threadql's store and the target's own schema history (issue 10 §6): a migration threadql marks
 * applied that threadql_schema_history does not know, a history row threadql does not know (or whose checksum is
 * not the one threadql holds), and a version the history has applied while threadql says otherwise.
 */
import type { MigrationFields } from '../../models/migration.ts';
import { appliedInHistory, type SchemaHistoryRow } from './schema-history.ts';

const short = (checksum: string): string => checksum.slice(0, 12);

/** Each disagreement between the store and the history, in words; empty when they agree. */
export function detectDrift(
  migrations: readonly Pick<MigrationFields, 'version' | 'status' | 'checksum' | 'downChecksum'>[],
  history: readonly SchemaHistoryRow[],
): string[] {
  const drift: string[] = [];
  const applied = appliedInHistory(history);
  const byVersion = new Map(migrations.map((m) => [m.version, m]));
  for (const m of migrations) {
    if (m.status === 'applied' && !applied.has(m.version)) {
      drift.push(
        `${m.version} is marked applied in threadql, but threadql_schema_history does not have it applied`,
      );
    }
  }
  for (const row of history) {
    const known = byVersion.get(row.version);
    if (!known) {
      drift.push(
        `threadql_schema_history row ${row.installedRank} (${row.type} ${row.version}, checksum ${short(row.checksum)}…) is a migration threadql does not know`,
      );
    } else if (row.checksum !== known.checksum || row.downChecksum !== known.downChecksum) {
      const which = row.checksum !== known.checksum ? 'up' : 'down';
      drift.push(
        `threadql_schema_history row ${row.installedRank} (${row.type} ${row.version}) has ${which} checksum ${short(which === 'up' ? row.checksum : row.downChecksum)}…, but threadql's scripts have ${short(which === 'up' ? known.checksum : known.downChecksum)}…`,
      );
    }
    if (!row.success) {
      drift.push(
        `threadql_schema_history row ${row.installedRank} records a failed ${row.type === 'SQL' ? 'apply' : 'roll back'} of ${row.version}: the database may be part-way`,
      );
    }
  }
  for (const version of applied.keys()) {
    const known = byVersion.get(version);
    if (known && known.status !== 'applied') {
      drift.push(
        `threadql_schema_history has ${version} applied, but threadql has it as ${known.status.replace('_', ' ')}`,
      );
    }
  }
  return drift;
}
