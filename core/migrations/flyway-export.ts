/**
 * Migrations as Flyway files, so a team can carry them into its own pipeline: `V<version>__<name>.sql` (up) and
 * `U<version>__<name>.sql` (undo), one file each. Flyway versions are numbers, so the version's timestamp is the
 * Flyway version and its slug the description: `V20261128093000__add_orders_customer_index.sql`.
 */
import type { MigrationFields } from '../../models/migration.ts';
import { versionName } from './migration-version.ts';

export interface ExportFile {
  name: string;
  content: string;
}

/** The Flyway file name of a migration's up (`V…`) or down (`U…`) script. */
export function flywayFileName(version: string, direction: 'up' | 'down'): string {
  const stamp = /^(\d{14})/.exec(version)?.[1];
  const flywayVersion = stamp ?? version.replace(/[^0-9A-Za-z.]+/g, '_').replace(/^_+|_+$/g, '');
  const name = stamp ? versionName(version) : 'migration';
  return `${direction === 'up' ? 'V' : 'U'}${flywayVersion}__${name}.sql`;
}

function header(
  m: Pick<MigrationFields, 'version' | 'description' | 'checksum' | 'downChecksum' | 'status'>,
  direction: 'up' | 'down',
): string {
  const checksum = direction === 'up' ? m.checksum : m.downChecksum;
  return [
    `-- threadql migration ${m.version} (${direction === 'up' ? 'up' : 'undo'}): ${m.description.replace(/\s+/g, ' ')}`,
    `-- status in threadql: ${m.status}; sha256 of the script below: ${checksum}`,
    '',
  ].join('\n');
}

/** Applied, or pending and not failing verification: what a pipeline could run. */
function exported(m: MigrationFields): boolean {
  return m.status === 'applied' || (m.status === 'pending' && m.verification?.status !== 'failed');
}

/** The V and U files of every applied migration and every pending one that did not fail verification, in version order. */
export function exportFlyway(migrations: readonly MigrationFields[]): ExportFile[] {
  return [...migrations]
    .filter(exported)
    .sort((a, b) => a.version.localeCompare(b.version))
    .flatMap((m) => [
      { name: flywayFileName(m.version, 'up'), content: `${header(m, 'up')}${m.upScript.trimEnd()}\n` },
      { name: flywayFileName(m.version, 'down'), content: `${header(m, 'down')}${m.downScript.trimEnd()}\n` },
    ]);
}
