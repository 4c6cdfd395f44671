import type { FunctionPolicy } from './function-policy.ts';

/**
 * Built-in MySQL 8 / MariaDB 10.x–11.x functions that only compute from their arguments or read session and
 * server information (compiled from both servers' function references). Stored functions, loadable UDFs
 * (e.g. lib_mysqludf_sys's sys_exec) and anything newer are not here, so they make a query `other`.
 */
const PURE = `
abs acos adddate addtime aes_decrypt aes_encrypt any_value ascii asin atan atan2 avg bin bin_to_uuid
bit_and bit_count bit_length bit_or bit_xor cast ceil ceiling char char_length character_length charset chr
coalesce coercibility collation compress concat concat_ws connection_id conv convert convert_tz cos cot count crc32
crc32c cume_dist curdate current_date current_role current_time current_timestamp current_user curtime database
date date_add date_format date_sub datediff day dayname dayofmonth dayofweek dayofyear decode_histogram
decode_oracle default degrees dense_rank des_decrypt des_encrypt elt exp export_set extract extractvalue field
find_in_set first_value floor format format_bytes format_pico_time found_rows from_base64 from_days from_unixtime
get_format greatest group_concat grouping hex hour icu_version if ifnull inet6_aton inet6_ntoa inet_aton inet_ntoa
insert instr interval is_ipv4 is_ipv4_compat is_ipv4_mapped is_ipv6 is_uuid isnull json_array json_array_append
json_array_insert json_array_intersect json_arrayagg json_compact json_contains json_contains_path json_depth
json_detailed json_equals json_exists json_extract json_insert json_key_value json_keys json_length json_loose
json_merge json_merge_patch json_merge_preserve json_normalize json_object json_object_filter_keys
json_object_to_array json_objectagg json_overlaps json_pretty json_query json_quote json_remove json_replace
json_schema_valid json_schema_validation_report json_search json_set json_storage_free json_storage_size
json_table json_type json_unquote json_valid json_value lag last_day last_insert_id last_value lcase lead least left
length lengthb ln localtime localtimestamp locate log log10 log2 lower lpad ltrim make_set makedate maketime max md5
median microsecond mid min minute mod month monthname months_between natural_sort_key now nth_value ntile nullif nvl
nvl2 oct octet_length ord percent_rank percentile_cont percentile_disc period_add period_diff pi position pow power
quarter quote radians rand random_bytes rank regexp_instr regexp_like regexp_replace regexp_substr release_version
repeat replace reverse right round row_count row_number rownum rpad rtrim schema sec_to_time second session_user
sformat sha sha1 sha2 sign sin soundex space sqrt statement_digest statement_digest_text std stddev stddev_pop
stddev_samp str_to_date strcmp subdate substr substring substring_index subtime sum sys_guid sysdate system_user tan
time time_format time_to_sec timediff timestamp timestampadd timestampdiff to_base64 to_char to_date to_days
to_number to_seconds trim trim_oracle trunc truncate ucase uncompress uncompressed_length unhex unix_timestamp upper
user utc_date utc_time utc_timestamp uuid uuid_short uuid_to_bin uuid_v4 uuid_v7 validate_password_strength
values var_pop var_samp variance version week weekday weekofyear weight_string year yearweek
st_area st_asbinary st_asgeojson st_astext st_aswkb st_aswkt st_buffer st_centroid st_contains st_crosses
st_difference st_dimension st_disjoint st_distance st_distance_sphere st_endpoint st_envelope st_equals
st_exteriorring st_geometryn st_geometrytype st_geomfromgeojson st_geomfromtext st_geomfromwkb st_interiorringn
st_intersection st_intersects st_isclosed st_isempty st_isring st_issimple st_isvalid st_length st_numgeometries
st_numinteriorrings st_numpoints st_overlaps st_pointfromtext st_pointn st_srid st_startpoint st_symdifference
st_touches st_union st_within st_x st_y point linestring polygon multipoint multilinestring multipolygon
geometrycollection
`
  .split(/\s+/)
  .filter(Boolean);

const DANGEROUS: Array<[string, string]> = [
  ['sleep', 'blocks the session'],
  ['benchmark', 'burns server CPU for as long as it is told'],
  ['get_lock', 'takes a named lock that outlives the query'],
  ['release_lock', 'releases a named lock'],
  ['release_all_locks', 'releases named locks'],
  ['is_free_lock', 'probes named locks'],
  ['is_used_lock', 'probes named locks'],
  ['load_file', "reads a file from the database server's disk"],
  ['master_pos_wait', 'blocks until replication catches up'],
  ['source_pos_wait', 'blocks until replication catches up'],
  ['master_gtid_wait', 'blocks until replication catches up'],
  ['wait_for_executed_gtid_set', 'blocks until replication catches up'],
  ['wait_until_sql_thread_after_gtids', 'blocks until replication catches up'],
  ['nextval', 'advances a sequence'],
  ['setval', 'changes a sequence'],
  ['lastval', 'reads session sequence state'],
  ['name_const', 'is internal to replication'],
  ['sys_exec', 'runs a shell command on the server (lib_mysqludf_sys)'],
  ['sys_eval', 'runs a shell command on the server (lib_mysqludf_sys)'],
];

const dangerous = new Map(DANGEROUS);
const safe = new Set(PURE.filter((name) => !dangerous.has(name)));

/** MySQL/MariaDB's function policy: pure built-ins, minus the deny-list. */
export const MYSQL_FUNCTION_POLICY: FunctionPolicy = { safe, dangerous };
