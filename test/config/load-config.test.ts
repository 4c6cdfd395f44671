import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfigText, loadConfig } from '../../config/load-config.ts';
import { loadEnv, DEFAULT_MODEL } from '../../config/env.ts';
import { ConfigError } from '../../core/errors.ts';

function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('threadql.yml', () => {
  it('expands ${VAR} references and applies defaults', () => {
    const config = parseConfigText(
      'connections:\n  - name: shop\n    type: postgres\n    url: ${SHOP_URL}\n    default: true\napprovers:\n  slack: ["U1"]\n',
      { SHOP_URL: 'postgres://u:p@db/shop' },
    );
    expect(config.connections[0]).toMatchObject({
      name: 'shop',
      type: 'postgres',
      url: 'postgres://u:p@db/shop',
      channels: ['*'],
    });
    expect(config.approvers).toEqual({ slack: ['U1'], discord: [], shell: [] });
    expect(config.limits.maxRows).toBe(5000);
    expect(config.limits.statementTimeoutMs).toBe(15000);
  });

  it('takes a shadow database per connection and migration settings, refusing a shadow that is the connection itself', () => {
    const config = parseConfigText(
      'connections:\n  - {name: shop, type: postgres, url: "postgres://u:p@db/shop", shadow: "postgres://u:p@db/shop_shadow"}\nmigrations:\n  lockTimeoutMs: 2000\n',
      {},
    );
    expect(config.connections[0]?.shadow).toBe('postgres://u:p@db/shop_shadow');
    expect(config.migrations).toEqual({
      lockTimeoutMs: 2000,
      statementTimeoutMs: 300_000,
      verifyTimeoutMs: 30_000,
    });
    const same = configErrorOf(() =>
      parseConfigText(
        'connections:\n  - {name: a, type: mysql, url: "mysql://u:secret@db/a", shadow: "mysql://u:secret@db/a"}\n',
        {},
      ),
    );
    expect(same.issues).toEqual([
      'threadql.yml: connections[0].shadow: the shadow database must not be the connection itself (threadql wipes the shadow)',
    ]);
    expect(same.message).not.toContain('secret');
    const mongo = configErrorOf(() =>
      parseConfigText(
        'connections:\n  - {name: m, type: mongodb, url: "mongodb://db/a", shadow: "mongodb://db/b"}\n',
        {},
      ),
    );
    expect(mongo.issues[0]).toContain('migrations (and their shadow database) are for SQL connections only');
  });

  it('schedules: the default zone and failure limit, with an unknown zone named', () => {
    expect(parseConfigText('connections: []\n', {}).schedules).toEqual({ timezone: 'UTC', maxFailures: 3 });
    expect(
      parseConfigText('schedules:\n  timezone: Europe/Berlin\n  maxFailures: 5\n', {}).schedules,
    ).toEqual({
      timezone: 'Europe/Berlin',
      maxFailures: 5,
    });
    const error = configErrorOf(() => parseConfigText('schedules:\n  timezone: Europe/Berln\n', {}));
    expect(error.issues).toEqual(['threadql.yml: schedules.timezone: unknown IANA time zone "Europe/Berln"']);
  });

  it('names the key and the problem for a bad type, as the user wrote it', () => {
    const error = configErrorOf(() =>
      parseConfigText(
        'connections:\n  - {name: a, type: sqlite, url: a.db}\n  - {name: b, type: postgress, url: "postgres://x"}\n',
        {},
      ),
    );
    expect(error.issues).toEqual([
      'threadql.yml: connections[1].type: expected postgres | mysql | sqlite | mongodb, got "postgress"',
    ]);
    expect(error.code).toBe('config_invalid');
  });

  it('reports a missing environment variable by path and name, never a value', () => {
    const error = configErrorOf(() =>
      parseConfigText('connections:\n  - {name: a, type: postgres, url: "${MISSING_URL}"}\n', {}),
    );
    expect(error.message).toContain('connections[0].url: environment variable MISSING_URL is not set');
  });

  it('never echoes a connection URL in an error', () => {
    const error = configErrorOf(() =>
      parseConfigText(
        'connections:\n  - {name: "bad name!", type: postgres, url: "postgres://admin:hunter2@db/x"}\n',
        {},
      ),
    );
    expect(error.message).toContain('connections[0].name');
    expect(error.message).not.toContain('hunter2');
  });

  it('refuses duplicate connection names and two defaults', () => {
    const error = configErrorOf(() =>
      parseConfigText(
        'connections:\n  - {name: shop, type: sqlite, url: a.db, default: true}\n  - {name: Shop, type: sqlite, url: b.db, default: true}\n',
        {},
      ),
    );
    expect(error.issues.join('\n')).toMatch(/connections\[1\]\.name: duplicate connection name "Shop"/);
    expect(error.issues.join('\n')).toMatch(/at most one connection may be default/);
  });

  it('refuses unknown keys (typos) and reports YAML syntax errors', () => {
    expect(configErrorOf(() => parseConfigText('conections: []\n', {})).message).toMatch(/conections/);
    expect(configErrorOf(() => parseConfigText('connections: [\n', {})).message).toMatch(/threadql\.yml:/);
  });

  it('supports ${VAR:-default} and $${ escapes', () => {
    const config = parseConfigText(
      'connections:\n  - {name: a, type: sqlite, url: "${DB:-sample.db}", description: "cost $${x}"}\n',
      {},
    );
    expect(config.connections[0]?.url).toBe('sample.db');
    expect(config.connections[0]?.description).toBe('cost ${x}');
  });
});

describe('environment', () => {
  it('validates tokens by shape and names the variable without echoing the secret', () => {
    try {
      loadEnv({ SLACK_BOT_TOKEN: 'xoxp-user-token-secret', PORT: 'abc' });
      throw new Error('expected a ConfigError');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const text = (error as ConfigError).message;
      expect(text).toContain('SLACK_BOT_TOKEN: expected a bot token starting with xoxb-');
      expect(text).toContain('PORT:');
      expect(text).not.toContain('xoxp-user-token-secret');
    }
  });

  it('takes a Redis key prefix for a deployment sharing Redis, ending in a colon', () => {
    expect(loadEnv({ THREADQL_REDIS_PREFIX: 'acme:prod:' }).THREADQL_REDIS_PREFIX).toBe('acme:prod:');
    expect(loadEnv({}).THREADQL_REDIS_PREFIX).toBeUndefined();
    expect(() => loadEnv({ THREADQL_REDIS_PREFIX: 'acme' })).toThrow(
      'THREADQL_REDIS_PREFIX: expected letters, digits, _ . - and colons, ending in a colon, like acme:',
    );
  });

  it('applies defaults and treats empty values as unset', () => {
    const env = loadEnv({ ANTHROPIC_API_KEY: '  ', PORT: '' });
    expect(env.ANTHROPIC_API_KEY).toBeUndefined();
    expect(env.PORT).toBe(3000);
    expect(env.THREADQL_MODEL).toBe(DEFAULT_MODEL);
    expect(env.THREADQL_CONFIG).toBe('./threadql.yml');
  });

  it('loads defaults when the default config file is absent, but fails for an explicit missing path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'threadql-config-'));
    const defaults = await loadConfig({ THREADQL_CONFIG: undefined, PWD: dir });
    expect(Array.isArray(defaults.file.connections)).toBe(true);
    await expect(loadConfig({ THREADQL_CONFIG: join(dir, 'nope.yml') })).rejects.toThrow(
      /THREADQL_CONFIG: cannot read/,
    );
    const path = join(dir, 'threadql.yml');
    writeFileSync(path, 'connections:\n  - {name: s, type: sqlite, url: s.db}\n');
    const loaded = await loadConfig({ THREADQL_CONFIG: path });
    expect(loaded.filePath).toBe(path);
    expect(loaded.file.connections.map((c) => c.name)).toEqual(['s']);
  });
});
