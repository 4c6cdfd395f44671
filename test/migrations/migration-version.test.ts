import { flywayFileName } from '../../core/migrations/flyway-export.ts';
import { migrationSlug, nextMigrationVersion } from '../../core/migrations/migration-version.ts';

describe('migration versions', () => {
  const now = new Date('2026-11-28T09:30:00.750Z');

  it('is the UTC second and a slug of the name', () => {
    expect(nextMigrationVersion({ now, name: 'Add orders/customer index!', existing: [] })).toBe(
      '20261128093000_add_orders_customer_index',
    );
    expect(migrationSlug(undefined)).toBe('migration');
    expect(migrationSlug('x'.repeat(80))).toHaveLength(48);
  });

  it('is always later than every version the connection has, so versions stay unique and ordered', () => {
    expect(nextMigrationVersion({ now, name: 'b', existing: ['20261128093000_a'] })).toBe('20261128093001_b');
    expect(nextMigrationVersion({ now, name: 'c', existing: ['20261231235959_z', '20261128093000_a'] })).toBe(
      '20270101000000_c',
    );
    expect(nextMigrationVersion({ now, name: 'd', existing: ['v1', '20261128092959_old'] })).toBe(
      '20261128093000_d',
    );
  });

  it('names Flyway files from the timestamp and the slug', () => {
    expect(flywayFileName('20261128093000_add_orders_customer_index', 'up')).toBe(
      'V20261128093000__add_orders_customer_index.sql',
    );
    expect(flywayFileName('20261128093000_add_orders_customer_index', 'down')).toBe(
      'U20261128093000__add_orders_customer_index.sql',
    );
  });
});
