/**
 * The SHOW statements MySQL 8 and MariaDB 10.x–11.x have, as word patterns. sqlparser-rs parses only some of them
 * on their own (SHOW TABLES, SHOW COLUMNS, SHOW CREATE TABLE, SHOW VARIABLES, SHOW STATUS…) and reads anything else
 * after SHOW as a variable name, so `show me the top customers` parses as `SHOW VARIABLE`; MySQL has no such
 * statement. This list is what tells a real SHOW statement from English that starts with "show".
 *
 * Placeholders: NAME an identifier (plain, `quoted` or qualified), FROM an optional `FROM|IN db`, FILTER an optional
 * `LIKE 'pattern'` or `WHERE …`, N a number.
 */

const NAME = '(?:[\\w$]+|`[^`]+`|"[^"]+")(?:\\.(?:[\\w$]+|`[^`]+`|"[^"]+"))?';
const STRING = '(?:\'[^\']*\'|"[^"]*")';
const FROM = `(?: (?:from|in) ${NAME})?`;
const FILTER = `(?: like ${STRING}| where .+)?`;
const USER = `(?:${NAME}|${STRING})(?:@(?:${NAME}|${STRING}))?|current_user(?:\\(\\))?`;
const N = '\\d+';

/** One pattern per SHOW form (after `show `); the capture group is the form's object word. */
const FORMS: readonly string[] = [
  `(?:full )?(tables)${FROM}${FILTER}`,
  `(databases|schemas)${FILTER}`,
  `(create) (?:table|view|procedure|function|trigger|event|database|schema|sequence|package(?: body)?|server|role) (?:if not exists )?${NAME}`,
  `(create) user (?:${USER})`,
  `(?:full |extended )*(columns|fields) (?:from|in) ${NAME}${FROM}${FILTER}`,
  `(?:extended )?(index|indexes|keys) (?:from|in) ${NAME}${FROM}(?: where .+)?`,
  `(?:global |session |local )?(variables|status)${FILTER}`,
  `(?:full )?(processlist)`,
  `(grants)(?: for (?:${USER})(?: using .+)?)?`,
  `(warnings|errors)(?: limit ${N}(?:\\s*,\\s*${N})?)?`,
  `count\\(\\*\\) (warnings|errors)`,
  `(?:storage )?(engines)`,
  `(engine) ${NAME} (?:status|mutex|logs)`,
  `(plugins)(?: soname(?: ${STRING}| like ${STRING}| where .+)?)?`,
  `(privileges)`,
  `(triggers|events)${FROM}${FILTER}`,
  `(table) status${FROM}${FILTER}`,
  `(open) tables${FROM}${FILTER}`,
  `(master|slave|replica|binlog) status(?: for channel ${NAME})?`,
  `(slave|replica) ${STRING} status`,
  `all (slaves|replicas) status`,
  `(slave|replica) hosts`,
  `(binary|master) logs`,
  `(binlog|relaylog) events(?: in ${STRING})?(?: from ${N})?(?: limit ${N}(?:\\s*,\\s*${N})?)?`,
  `(profiles)`,
  `(profile)(?: (?:all|block io|context switches|cpu|ipc|memory|page faults|source|swaps)(?:\\s*,\\s*(?:all|block io|context switches|cpu|ipc|memory|page faults|source|swaps))*)?(?: for query ${N})?(?: limit ${N}(?: offset ${N})?)?`,
  `(procedure|function|package|package body) status${FILTER}`,
  `(procedure|function) code ${NAME}`,
  `(character set|charset|collation)${FILTER}`,
  `(authors|contributors|locales)`,
  `(explain|analyze)(?: format\\s*=\\s*\\w+)? for ${N}`,
  `(table_statistics|index_statistics|user_statistics|client_statistics|query_response_time|user_variables|wsrep_membership|wsrep_status)${FILTER}`,
];

const PATTERNS = FORMS.map((form) => new RegExp(`^show ${form}$`, 'i'));

/** A SHOW statement MySQL/MariaDB has: the form's object word (e.g. `tables`, `status`), else undefined. */
export function readMysqlShow(text: string): { object: string } | undefined {
  const normal = text.trim().replace(/;\s*$/, '').replace(/\s+/g, ' ').trim();
  for (const pattern of PATTERNS) {
    const match = pattern.exec(normal);
    if (match) return { object: (match[1] ?? '').toLowerCase() };
  }
  return undefined;
}
