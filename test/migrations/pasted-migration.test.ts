import { ValidationError } from '../../core/errors.ts';
import { flywayFileName } from '../../core/migrations/flyway-export.ts';
import { migrationSlug, nextMigrationVersion } from '../../core/migrations/migration-version.ts';
import { isPastedMigration, parsePastedMigration } from '../../core/migrations/parse-pasted-migration.ts';

const fence = '```';

describe('a pasted migration', () => {
  it('reads the name, the up script (first block) and the down script (second block)', () => {
    const text = [
      'migrate add_orders_customer_index',
      `${fence}sql`,
      'CREATE INDEX orders_customer_id_idx ON orders (customer_id);',
      fence,
      `${fence}sql`,
      'DROP INDEX orders_customer_id_idx;',
      fence,
    ].join('\n');
    expect(parsePastedMigration(text)).toEqual({
      name: 'add_orders_customer_index',
      up: 'CREATE INDEX orders_customer_id_idx ON orders (customer_id);',
      down: 'DROP INDEX orders_customer_id_idx;',
    });
  });

  it('takes blocks without a language, a language on its own first line, and no name', () => {
    const text = `Migrate\n${fence}\nsql\nALTER TABLE t ADD c int\n${fence}\n${fence}ALTER TABLE t DROP c${fence}`;
    expect(parsePastedMigration(text)).toEqual({
      name: undefined,
      up: 'ALTER TABLE t ADD c int',
      down: 'ALTER TABLE t DROP c',
    });
  });

  it('is only a migration when the message starts with the word migrate', () => {
    expect(isPastedMigration('migrations')).toBe(false);
    expect(isPastedMigration('migrations export flyway')).toBe(false);
    expect(isPastedMigration('please migrate this')).toBe(false);
    expect(parsePastedMigration('how many orders?')).toBeUndefined();
  });

  it('says how to write one when a script is missing or there are too many', () => {
    const one = () => parsePastedMigration(`migrate x\n${fence}sql\nCREATE INDEX i ON t (c)\n${fence}`);
    expect(one).toThrow(ValidationError);
    expect(one).toThrow('A migration needs an up script and a down script; I found only one code block.');
    expect(() => parsePastedMigration('migrate x')).toThrow('I found no code block');
    expect(() =>
      parsePastedMigration(`migrate\n${fence}a${fence}${fence}b${fence}${fence}c${fence}`),
    ).toThrow('A migration has exactly two scripts; I found 3 code blocks.');
    expect(() => parsePastedMigration(`migrate\n${fence}sql\n${fence}${fence}b${fence}`)).toThrow(
      'The up script is empty.',
    );
  });
});

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
