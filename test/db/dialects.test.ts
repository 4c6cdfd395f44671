import { DATABASE_TYPES } from '../../config/config-file.ts';
import { redact, secretsOf } from '../../core/db/database-errors.ts';
import { dialectFor } from '../../core/db/dialects.ts';

describe('dialect registry', () => {
  it('has one dialect per database type, capabilities as data', () => {
    for (const type of DATABASE_TYPES) expect(dialectFor(type).type).toBe(type);
    expect(dialectFor('postgres').capabilities).toMatchObject({
      queryLanguage: 'sql',
      transactionalDdl: true,
      identifierQuote: '"',
    });
    expect(dialectFor('mysql').capabilities).toMatchObject({
      queryLanguage: 'sql',
      transactionalDdl: false,
      identifierQuote: '`',
    });
    expect(dialectFor('sqlite').capabilities).toMatchObject({
      queryLanguage: 'sql',
      transactionalDdl: true,
      explainEstimate: false,
    });
    expect(dialectFor('mongodb').capabilities).toMatchObject({ queryLanguage: 'mongo', identifierQuote: '' });
    for (const type of DATABASE_TYPES) expect(dialectFor(type).capabilities.enforcedReadOnly).toBe(true);
  });

  it('classifies through the safety classifiers of each dialect', async () => {
    expect((await dialectFor('postgres').classify('SELECT 1')).verdict).toBe('read');
    expect((await dialectFor('postgres').classify('DELETE FROM t')).verdict).toBe('write');
    expect((await dialectFor('mysql').classify('DROP TABLE t')).verdict).toBe('ddl');
    expect((await dialectFor('sqlite').classify('UPDATE t SET a = 1')).verdict).toBe('write');
    expect((await dialectFor('mongodb').classify('{"collection": "t", "operation": "find"}')).verdict).toBe(
      'read',
    );
    expect(
      (
        await dialectFor('mongodb').classify(
          '{"collection": "t", "operation": "aggregate", "pipeline": [{"$out": "x"}]}',
        )
      ).verdict,
    ).not.toBe('read');
  });
});

describe('secret redaction', () => {
  it('hides the URL, the password (raw and decoded) and user:password', () => {
    const url = 'postgres://bob:p%40ss%21word@db.example:5432/shop';
    const secrets = secretsOf(url);
    const text = `failed: ${url} / p@ss!word / bob:p%40ss%21word`;
    const clean = redact(text, secrets);
    expect(clean).not.toContain('p@ss!word');
    expect(clean).not.toContain('p%40ss%21word');
    expect(clean).toBe('failed: *** / *** / ***');
  });
});
