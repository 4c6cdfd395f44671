import { parseConfigText } from '../../config/load-config.ts';
import { ConfigError } from '../../core/errors.ts';
import { MaskingPolicy, sourceLabel } from '../../core/governance/masking-policy.ts';

function policy(type: 'postgres' | 'mongodb', yaml: string): MaskingPolicy {
  const config = parseConfigText(
    `connections:\n  - name: c\n    type: ${type}\n    url: x\n    maskedColumns: ${yaml}\n`,
    {},
  );
  return new MaskingPolicy(type, config.connections[0]!.maskedColumns);
}

describe('maskedColumns in threadql.yml', () => {
  it('takes plain patterns (redact by default) and {column, mode} entries', () => {
    const config = parseConfigText(
      'connections:\n  - name: shop\n    type: postgres\n    url: x\n    maskedColumns:\n      - customers.email\n      - {column: "*.phone", mode: hide}\n      - column: sales.customers.name\n        mode: hash\n',
      {},
    );
    expect(config.connections[0]!.maskedColumns).toEqual([
      { column: 'customers.email', mode: 'redact' },
      { column: '*.phone', mode: 'hide' },
      { column: 'sales.customers.name', mode: 'hash' },
    ]);
  });

  it('names the entry and the problem for a bad pattern or mode', () => {
    const bad = (entry: string) => {
      try {
        parseConfigText(
          `connections:\n  - {name: a, type: sqlite, url: a.db, maskedColumns: [${entry}]}\n`,
          {},
        );
      } catch (error) {
        if (error instanceof ConfigError) return error.issues.join('\n');
      }
      throw new Error('expected a ConfigError');
    };
    expect(bad('email')).toContain('connections[0].maskedColumns[0]');
    expect(bad('{column: a.b, mode: blur}')).toContain('connections[0].maskedColumns[0]');
  });

  it('accepts access lists per platform, visibility and sensitive', () => {
    const config = parseConfigText(
      'connections:\n  - name: hr\n    type: postgres\n    url: x\n    access: {slack: [U1, S2], discord: ["3"]}\n    visibility: auto\n    sensitive: true\n',
      {},
    );
    expect(config.connections[0]).toMatchObject({
      access: { slack: ['U1', 'S2'], discord: ['3'], shell: [] },
      visibility: 'auto',
      sensitive: true,
    });
    expect(() =>
      parseConfigText('connections:\n  - {name: a, type: sqlite, url: a.db, visibility: everyone}\n', {}),
    ).toThrow(/visibility: expected channel \| requester \| auto, got "everyone"/);
  });
});

describe('MaskingPolicy', () => {
  it('matches table.column and schema.table.column, case-insensitively, with * wildcards', () => {
    const p = policy(
      'postgres',
      '[customers.email, "*.phone", {column: "hr.*.salary", mode: hide}, "users.*_token"]',
    );
    expect(p.modeFor({ schema: 'public', table: 'customers', column: 'EMAIL' })).toBe('redact');
    expect(p.modeFor({ schema: 'public', table: 'orders', column: 'email' })).toBeUndefined();
    expect(p.modeFor({ schema: 'sales', table: 'leads', column: 'phone' })).toBe('redact');
    expect(p.modeFor({ schema: 'hr', table: 'staff', column: 'salary' })).toBe('hide');
    expect(p.modeFor({ schema: 'public', table: 'staff', column: 'salary' })).toBeUndefined();
    expect(p.modeFor({ table: 'users', column: 'reset_token' })).toBe('redact');
    expect(p.modeFor({ table: 'users', column: 'token_count' })).toBeUndefined();
  });

  it('takes the strongest mode when several rules cover a column', () => {
    const p = policy('postgres', '[{column: "*.email", mode: hash}, {column: customers.email, mode: hide}]');
    expect(p.modeFor({ table: 'customers', column: 'email' })).toBe('hide');
    expect(p.modeFor({ table: 'leads', column: 'email' })).toBe('hash');
    expect(p.modeForName('email')).toBe('hide');
    expect(p.modeForName('e')).toBeUndefined();
  });

  it('covers MongoDB sub-documents both ways: a masked parent masks its fields, a masked field masks its parent', () => {
    const p = policy('mongodb', '[customers.address, users.profile.ssn]');
    expect(p.modeFor({ table: 'customers', column: 'address.street' })).toBe('redact');
    expect(p.modeFor({ table: 'customers', column: 'address' })).toBe('redact');
    expect(p.modeFor({ table: 'users', column: 'profile' })).toBe('redact');
    expect(p.modeFor({ table: 'users', column: 'profile.name' })).toBeUndefined();
    expect(p.modeFor({ table: 'users', column: 'profile.ssn' })).toBe('redact');
  });

  it('labels sources as the admin view and notes name them', () => {
    expect(sourceLabel({ schema: 'hr', table: 'staff', column: 'salary' })).toBe('hr.staff.salary');
    expect(sourceLabel({ table: 'customers', column: 'email' })).toBe('customers.email');
  });
});
