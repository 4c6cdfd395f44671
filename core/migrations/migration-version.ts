/**
 * Migration versions: `<UTC yyyymmddHHMMSS>_<slug>`, e.g. `20261128093000_add_orders_customer_index`. They sort
 * as text in the order they were proposed, and a new one is always later than every version the connection
 * already has (one second past the latest if the clock disagrees), so versions stay unique and ordered even when
 * two people propose in the same second or a replica's clock lags.
 */

const STAMP = /^(\d{14})(?:_|$)/;
const MAX_SLUG = 48;

/** A name as a version slug: lower-case letters, digits and `_`; `migration` when nothing is left. */
export function migrationSlug(name: string | undefined): string {
  const slug = (name ?? '')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, MAX_SLUG)
    .replace(/_+$/, '');
  return slug === '' ? 'migration' : slug;
}

/** A slug from a sentence (an LLM's description): its first few words. */
export function slugFromDescription(description: string): string {
  return migrationSlug(description.split(/\s+/).slice(0, 6).join(' '));
}

function stampOf(date: Date): string {
  return date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

function dateOf(stamp: string): Date {
  const [y, mo, d, h, mi, s] = [0, 4, 6, 8, 10, 12].map((at, i) =>
    Number(stamp.slice(at, at + (i === 0 ? 4 : 2))),
  );
  return new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!));
}

/** The next version for a connection that already has `existing` versions. */
export function nextMigrationVersion(options: {
  now: Date;
  name: string | undefined;
  existing: readonly string[];
}): string {
  let at = new Date(Math.floor(options.now.getTime() / 1000) * 1000);
  const latest = options.existing
    .map((v) => STAMP.exec(v)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort()
    .at(-1);
  if (latest !== undefined && stampOf(at) <= latest) at = new Date(dateOf(latest).getTime() + 1000);
  return `${stampOf(at)}_${migrationSlug(options.name)}`;
}

/** The slug part of a version (`add_orders_customer_index`), or the whole version when it has no stamp. */
export function versionName(version: string): string {
  return version.replace(STAMP, '') || version;
}
