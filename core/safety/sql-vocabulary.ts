/**
 * What a SQL dialect has built in, as data for telling its statements from English (core/conversation/
 * message-intent.ts): its function names (everything the classifier's function policies know, safe or not), its
 * server settings (for SHOW and SET), and for MySQL/MariaDB the SHOW forms the server has.
 */
import type { SqlDialect } from './classify-sql.ts';
import { MYSQL_FUNCTION_POLICY } from './mysql-function-policy.ts';
import { readMysqlShow } from './mysql-show-forms.ts';
import { MYSQL_VARIABLES } from './mysql-variables.ts';
import { POSTGRES_FUNCTION_POLICY } from './postgres-function-policy.ts';
import { POSTGRES_SETTINGS } from './postgres-settings.ts';
import { POSTGRES_STABLE_BUILTINS } from './postgres-stable-builtins.ts';
import { SQLITE_FUNCTION_POLICY, SQLITE_READ_PRAGMAS } from './sqlite-function-policy.ts';
import type { FunctionPolicy } from './function-policy.ts';

export interface SqlVocabulary {
  /** Built-in function names, lower-case. */
  functions: ReadonlySet<string>;
  /** Settings `SHOW <name>` / `SET <name>` accept, lower-case. */
  settings: ReadonlySet<string>;
  /** MySQL/MariaDB: the object word of a real SHOW statement (`tables`, `status`…), else undefined. */
  readShow?: (text: string) => { object: string } | undefined;
}

const names = (...sets: Iterable<string>[]): ReadonlySet<string> =>
  new Set(sets.flatMap((s) => [...s].map((n) => n.toLowerCase())));
const policyNames = (policy: FunctionPolicy): Iterable<string>[] => [policy.safe, policy.dangerous.keys()];

/** System variables MySQL 8 has and MariaDB (whose list is generated) does not; the ones people set. */
const MYSQL_8_VARIABLES = `activate_all_roles_on_login binlog_row_value_options cte_max_recursion_depth
default_collation_for_utf8mb4 explain_format generated_random_password_length information_schema_stats_expiry
innodb_dedicated_server internal_tmp_mem_storage_engine mandatory_roles max_execution_time partial_revokes
password_history password_reuse_interval regexp_time_limit resultset_metadata select_into_buffer_size
sql_require_primary_key temptable_max_ram transaction_isolation transaction_read_only windowing_use_high_precision`
  .split(/\s+/)
  .filter(Boolean);

const VOCABULARIES: Record<SqlDialect, () => SqlVocabulary> = {
  postgres: () => ({
    functions: names(POSTGRES_STABLE_BUILTINS, ...policyNames(POSTGRES_FUNCTION_POLICY)),
    // `SHOW ALL` lists them all.
    settings: names(POSTGRES_SETTINGS, ['all']),
  }),
  mysql: () => ({
    functions: names(...policyNames(MYSQL_FUNCTION_POLICY)),
    settings: names(MYSQL_VARIABLES, MYSQL_8_VARIABLES),
    readShow: readMysqlShow,
  }),
  sqlite: () => ({
    functions: names(...policyNames(SQLITE_FUNCTION_POLICY)),
    settings: names(SQLITE_READ_PRAGMAS),
  }),
};

const cache = new Map<SqlDialect, SqlVocabulary>();

/** The dialect's vocabulary (built once per process). */
export function sqlVocabulary(dialect: SqlDialect): SqlVocabulary {
  let vocabulary = cache.get(dialect);
  if (!vocabulary) {
    vocabulary = VOCABULARIES[dialect]();
    cache.set(dialect, vocabulary);
  }
  return vocabulary;
}
