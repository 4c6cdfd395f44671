import type { FunctionPolicy } from './function-policy.ts';
import { POSTGRES_STABLE_BUILTINS } from './postgres-stable-builtins.ts';

const SLEEPS = 'blocks the session';
const SIGNALS = 'signals or stops another server process';
const FILES = "reads or writes files on the database server's disk";
const LARGE_OBJECTS = 'creates, changes or exports large objects';
const SEQUENCES = 'changes a sequence';
const LOCKS = 'takes a lock that outlives the query';
const SETTINGS = 'changes a server or session setting';
const RUNS_SQL = 'runs SQL text it is given, which the classifier cannot see';
const REMOTE = 'connects to another database, where the read-only transaction does not apply';
const XID = 'assigns a transaction id';
const ADMIN = 'performs a server administration action';
const INDEX = 'modifies an index';

/** Built-ins with side effects that the database's READ ONLY transaction does not stop (or stops too late). */
const DANGEROUS: Array<[string, string]> = [
  ...['pg_sleep', 'pg_sleep_for', 'pg_sleep_until'].map((n): [string, string] => [n, SLEEPS]),
  ...['pg_terminate_backend', 'pg_cancel_backend', 'pg_signal_backend', 'pg_log_backend_memory_contexts'].map(
    (n): [string, string] => [n, SIGNALS],
  ),
  ['pg_reload_conf', 'makes the server reload its configuration'],
  ['pg_rotate_logfile', ADMIN],
  ['pg_promote', ADMIN],
  ['pg_switch_wal', ADMIN],
  ['pg_create_restore_point', ADMIN],
  ['pg_backup_start', ADMIN],
  ['pg_backup_stop', ADMIN],
  ['pg_start_backup', ADMIN],
  ['pg_stop_backup', ADMIN],
  ['pg_wal_replay_pause', ADMIN],
  ['pg_wal_replay_resume', ADMIN],
  ['pg_import_system_collations', ADMIN],
  ['pg_logical_emit_message', ADMIN],
  ['pg_notify', 'sends a notification to other sessions'],
  ['pg_export_snapshot', ADMIN],
  ...[
    'pg_create_physical_replication_slot',
    'pg_create_logical_replication_slot',
    'pg_drop_replication_slot',
    'pg_copy_physical_replication_slot',
    'pg_copy_logical_replication_slot',
    'pg_replication_slot_advance',
    'pg_logical_slot_get_changes',
    'pg_logical_slot_get_binary_changes',
    'pg_replication_origin_create',
    'pg_replication_origin_drop',
    'pg_replication_origin_advance',
    'pg_replication_origin_session_setup',
    'pg_replication_origin_session_reset',
    'pg_replication_origin_xact_setup',
    'pg_replication_origin_xact_reset',
  ].map((n): [string, string] => [n, 'changes replication state']),
  ...[
    'pg_stat_reset',
    'pg_stat_reset_shared',
    'pg_stat_reset_single_table_counters',
    'pg_stat_reset_single_function_counters',
    'pg_stat_reset_slru',
    'pg_stat_reset_replication_slot',
    'pg_stat_reset_subscription_stats',
    'pg_stat_reset_backend_stats',
    'pg_stat_statements_reset',
  ].map((n): [string, string] => [n, 'resets statistics']),
  ...[
    'pg_read_file',
    'pg_read_binary_file',
    'pg_ls_dir',
    'pg_stat_file',
    'pg_ls_logdir',
    'pg_ls_waldir',
    'pg_ls_tmpdir',
    'pg_ls_archive_statusdir',
    'pg_ls_logicalmapdir',
    'pg_ls_logicalsnapdir',
    'pg_ls_replslotdir',
    'pg_file_write',
    'pg_file_rename',
    'pg_file_unlink',
    'pg_file_sync',
    'pg_logdir_ls',
    'pg_current_logfile',
  ].map((n): [string, string] => [n, FILES]),
  ...[
    'lo_import',
    'lo_export',
    'lo_create',
    'lo_creat',
    'lo_unlink',
    'lo_from_bytea',
    'lo_put',
    'lo_truncate',
    'lo_truncate64',
    'lowrite',
    'lo_open',
    'lo_close',
    'lo_lseek',
    'lo_lseek64',
    'lo_tell',
    'lo_tell64',
    'loread',
    'lo_get',
  ].map((n): [string, string] => [n, LARGE_OBJECTS]),
  ...['nextval', 'setval'].map((n): [string, string] => [n, SEQUENCES]),
  ...[
    'pg_advisory_lock',
    'pg_advisory_lock_shared',
    'pg_advisory_xact_lock',
    'pg_advisory_xact_lock_shared',
    'pg_try_advisory_lock',
    'pg_try_advisory_lock_shared',
    'pg_try_advisory_xact_lock',
    'pg_try_advisory_xact_lock_shared',
    'pg_advisory_unlock',
    'pg_advisory_unlock_shared',
    'pg_advisory_unlock_all',
  ].map((n): [string, string] => [n, LOCKS]),
  ['set_config', SETTINGS],
  ['setseed', SETTINGS],
  ...['txid_current', 'pg_current_xact_id'].map((n): [string, string] => [n, XID]),
  ...[
    'query_to_xml',
    'query_to_xmlschema',
    'query_to_xml_and_xmlschema',
    'cursor_to_xml',
    'cursor_to_xmlschema',
    'ts_stat',
    'ts_rewrite',
  ].map((n): [string, string] => [n, RUNS_SQL]),
  ...[
    'dblink',
    'dblink_exec',
    'dblink_connect',
    'dblink_connect_u',
    'dblink_open',
    'dblink_fetch',
    'dblink_send_query',
    'dblink_get_result',
  ].map((n): [string, string] => [n, REMOTE]),
  ...[
    'brin_summarize_new_values',
    'brin_summarize_range',
    'brin_desummarize_range',
    'gin_clean_pending_list',
  ].map((n): [string, string] => [n, INDEX]),
  ['pg_prewarm', 'loads relations into the buffer cache'],
  ['pg_truncate_visibility_map', ADMIN],
  ['pg_stat_clear_snapshot', ADMIN],
];

/**
 * Volatile built-ins that only compute or read (PostgreSQL marks them VOLATILE because their result changes, not
 * because they write), plus common functions added after PostgreSQL 15 (the version the generated list came from).
 */
const VOLATILE_BUT_PURE = [
  'random',
  'random_normal',
  'clock_timestamp',
  'timeofday',
  'gen_random_uuid',
  'uuidv4',
  'uuidv7',
  'uuid_extract_timestamp',
  'uuid_extract_version',
  'pg_relation_size',
  'pg_total_relation_size',
  'pg_table_size',
  'pg_indexes_size',
  'pg_database_size',
  'pg_tablespace_size',
  'pg_is_in_recovery',
  'pg_current_wal_lsn',
  'pg_last_wal_receive_lsn',
  'pg_last_wal_replay_lsn',
  'pg_last_xact_replay_timestamp',
  'any_value',
  'array_sample',
  'array_shuffle',
  'array_reverse',
  'array_sort',
  'date_add',
  'date_subtract',
  'erf',
  'erfc',
  'gamma',
  'lgamma',
  'casefold',
  'crc32',
  'crc32c',
  'pg_input_is_valid',
  'pg_input_error_info',
  'json_scalar',
  'json_serialize',
  'has_largeobject_privilege',
  'system_user',
  'merge_action',
];

const dangerous = new Map(DANGEROUS);
const safe = new Set(
  [...POSTGRES_STABLE_BUILTINS, ...VOLATILE_BUT_PURE].filter((name) => !dangerous.has(name)),
);

/** PostgreSQL's function policy: built-ins in pg_catalog that are immutable/stable or known pure, minus the deny-list. */
export const POSTGRES_FUNCTION_POLICY: FunctionPolicy = { safe, dangerous };

/**
 * The operator names PostgreSQL 15 defines in pg_catalog (`SELECT DISTINCT oprname FROM pg_operator`). An operator
 * is a function call in disguise, so a query using any other operator (CREATE OPERATOR ===) is treated like a call
 * to an unknown function.
 */
export const POSTGRES_BUILTIN_OPERATORS: ReadonlySet<string> = new Set(
  `!! !~ !~* !~~ !~~* # ## #- #> #>> % & && &< &<| &> * *< *<= *<> *= *> *>= + - -> ->> -|- / < <-> << <<= <<| <=
<> <@ <^ = > >= >> >>= >^ ? ?# ?& ?- ?-| ?| ?|| @ @-@ @> @? @@ @@@ ^ ^@ | |&> |/ |>> || ||/ ~ ~* ~<=~ ~<~ ~= ~>=~
~>~ ~~ ~~* !=`
    .split(/\s+/)
    .filter(Boolean),
);
