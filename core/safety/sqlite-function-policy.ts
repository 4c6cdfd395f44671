import type { FunctionPolicy } from './function-policy.ts';

/**
 * PRAGMAs that, asked without a value, only report (https://sqlite.org/pragma.html). Each also exists as a
 * table-valued function `pragma_<name>(…)`, which SQLite offers only for pragmas that return results and have no
 * side effects. `optimize`, `wal_checkpoint`, `incremental_vacuum` and `shrink_memory` act even without a value,
 * so they are not here; any PRAGMA given a value (`= x` or `(x)` on a setting) changes the connection or file.
 */
export const SQLITE_READ_PRAGMAS: ReadonlySet<string> = new Set(
  `application_id auto_vacuum automatic_index busy_timeout cache_size cache_spill cell_size_check
checkpoint_fullfsync collation_list compile_options data_version database_list defer_foreign_keys encoding
foreign_key_check foreign_key_list foreign_keys freelist_count fullfsync function_list hard_heap_limit
ignore_check_constraints index_info index_list index_xinfo integrity_check journal_mode journal_size_limit
legacy_alter_table locking_mode max_page_count mmap_size module_list page_count page_size pragma_list query_only
quick_check read_uncommitted recursive_triggers reverse_unordered_selects schema_version secure_delete
soft_heap_limit synchronous table_info table_list table_xinfo temp_store threads trusted_schema user_version
wal_autocheckpoint`
    .split(/\s+/)
    .filter(Boolean),
);

/** PRAGMAs whose argument names what to report on (a table, an index, a schema), not a new value. */
export const SQLITE_PRAGMAS_WITH_SUBJECT: ReadonlySet<string> = new Set([
  'table_info',
  'table_xinfo',
  'table_list',
  'index_info',
  'index_xinfo',
  'index_list',
  'foreign_key_list',
  'foreign_key_check',
  'integrity_check',
  'quick_check',
]);

/** SQLite's built-in scalar, date, aggregate, window, math and JSON functions (https://sqlite.org/lang_corefunc.html). */
const PURE = `
abs changes char coalesce concat concat_ws format glob hex if ifnull iif instr last_insert_rowid length like
likelihood likely lower ltrim max min nullif octet_length printf quote random randomblob replace round rtrim sign
soundex sqlite_compileoption_get sqlite_compileoption_used sqlite_offset sqlite_source_id sqlite_version substr
substring total_changes trim typeof unhex unicode unlikely upper zeroblob
date time datetime julianday unixepoch strftime timediff
avg count group_concat string_agg sum total
row_number rank dense_rank percent_rank cume_dist ntile lag lead first_value last_value nth_value
acos acosh asin asinh atan atan2 atanh ceil ceiling cos cosh degrees exp floor ln log log10 log2 mod pi pow power
radians sin sinh sqrt tan tanh trunc
json jsonb json_array jsonb_array json_array_length json_error_position json_extract jsonb_extract json_insert
jsonb_insert json_object jsonb_object json_patch jsonb_patch json_pretty json_remove jsonb_remove json_replace
jsonb_replace json_set jsonb_set json_type json_valid json_quote json_group_array jsonb_group_array json_group_object
jsonb_group_object json_each jsonb_each json_tree jsonb_tree
bm25 highlight snippet offsets matchinfo generate_series median percentile percentile_cont percentile_disc
`
  .split(/\s+/)
  .filter(Boolean);

const DANGEROUS: Array<[string, string]> = [
  ['load_extension', 'loads native code into the database process'],
  ['writefile', 'writes a file on the host'],
  ['readfile', 'reads a file from the host'],
  ['fsdir', 'lists files on the host'],
  ['lsdir', 'lists files on the host'],
  ['edit', 'starts an editor on the host'],
  ['fts3_tokenizer', 'can register a native tokenizer pointer'],
  ['sqlite_dbpage', 'reads or writes raw database pages'],
];

const dangerous = new Map(DANGEROUS);
const safe = new Set(PURE);

/** SQLite's function policy: core built-ins, minus the deny-list (pragma_* functions are judged with the PRAGMAs). */
export const SQLITE_FUNCTION_POLICY: FunctionPolicy = { safe, dangerous };
