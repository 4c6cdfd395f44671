/**
 * Who a Slack user is, for the engine: a display name (`users.info`, so cards say "Run by Ana", not "U123") and the
 * user-group ids they belong to among the configured approver groups (`usergroups.users.list`), so the engine's
 * approver check (user id or one of UserRef.roles listed) works for groups. Both are cached in memory with a TTL,
 * and a lookup never fails a turn: a missing scope, an unknown user or a slow Slack leaves the ref as it was.
 */
import type { UserRef } from '../../core/conversation/chat-platform.ts';
import { slackErrorCode } from './slack-api-error.ts';

/** The two Web API methods the directory calls (a WebClient satisfies this). */
export interface SlackDirectoryClient {
  users: {
    info(args: { user: string }): Promise<{ user?: SlackUserRecord }>;
  };
  usergroups: {
    users: {
      list(args: { usergroup: string }): Promise<{ users?: string[] }>;
    };
  };
}

/** The fields of a users.info `user` the directory reads. */
export interface SlackUserRecord {
  id?: string;
  name?: string;
  real_name?: string;
  deleted?: boolean;
  profile?: { display_name?: string; real_name?: string };
}

export interface SlackDirectoryOptions {
  client: SlackDirectoryClient;
  /** Ids whose members get the id in UserRef.roles; only user-group ids (S…) are used, user ids are ignored. */
  userGroups?: string[];
  /** Look display names up with users.info (needs users:read); default true. */
  displayNames?: boolean;
  /** How long a successful lookup is trusted; default 5 minutes. */
  ttlMs?: number;
  /** How long a failed lookup is remembered before Slack is asked again; default 1 minute. */
  failureTtlMs?: number;
  /** Longest a turn waits for a lookup (which still completes into the cache); default 3 s. */
  timeoutMs?: number;
  /** Most users whose names are kept. */
  maxEntries?: number;
  warn?: (message: string) => void;
  now?: () => number;
}

const USER_GROUP_ID = /^S[A-Z0-9]+$/;

interface Entry<T> {
  value: Promise<T>;
  expires: number;
}

/** Promise-valued TTL cache: concurrent lookups of one key share one call; the oldest keys go first when full. */
class TtlCache<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private readonly max: number;
  private readonly now: () => number;

  constructor(max: number, now: () => number) {
    this.max = max;
    this.now = now;
  }

  get(key: string, load: () => Promise<{ value: T; ttlMs: number }>): Promise<T> {
    const hit = this.entries.get(key);
    if (hit && hit.expires > this.now()) return hit.value;
    const entry: Entry<T> = { value: Promise.resolve(undefined as T), expires: Infinity };
    entry.value = load().then(({ value, ttlMs }) => {
      entry.expires = this.now() + ttlMs;
      return value;
    });
    this.entries.delete(key);
    this.entries.set(key, entry);
    while (this.entries.size > this.max) this.entries.delete(this.entries.keys().next().value as string);
    return entry.value;
  }
}

/** The name Slack shows for a user: the profile's display name, else the real name, else the handle. */
export function slackDisplayName(user: SlackUserRecord): string | undefined {
  const candidates = [user.profile?.display_name, user.profile?.real_name, user.real_name, user.name];
  return candidates.map((c) => c?.trim()).find((c): c is string => Boolean(c));
}

/** Resolves display names and approver-group membership for UserRefs, cached, never throwing. */
export class SlackDirectory {
  private readonly client: SlackDirectoryClient;
  private readonly groups: string[];
  private readonly displayNames: boolean;
  private readonly ttlMs: number;
  private readonly failureTtlMs: number;
  private readonly timeoutMs: number;
  private readonly warn: (message: string) => void;
  private readonly names: TtlCache<string | undefined>;
  private readonly members: TtlCache<Set<string> | undefined>;
  /** Error codes already logged, so a missing scope is reported once and not on every click. */
  private readonly reported = new Set<string>();

  constructor(options: SlackDirectoryOptions) {
    this.client = options.client;
    this.groups = [...new Set((options.userGroups ?? []).filter((id) => USER_GROUP_ID.test(id)))];
    this.displayNames = options.displayNames ?? true;
    this.ttlMs = options.ttlMs ?? 5 * 60_000;
    this.failureTtlMs = options.failureTtlMs ?? 60_000;
    this.timeoutMs = options.timeoutMs ?? 3000;
    this.warn = options.warn ?? (() => {});
    const now = options.now ?? Date.now;
    this.names = new TtlCache(options.maxEntries ?? 10_000, now);
    this.members = new TtlCache(Math.max(this.groups.length, 1), now);
  }

  /** The user-group ids this directory resolves membership for. */
  get userGroups(): readonly string[] {
    return this.groups;
  }

  /** The ref with displayName (when Slack knows one) and roles (the configured groups the user is in) filled. */
  async enrich(user: UserRef): Promise<UserRef> {
    if (user.platform !== 'slack') return user;
    const [name, roles] = await Promise.all([
      this.displayNames ? this.bounded(this.displayName(user.user)) : undefined,
      this.groups.length ? this.bounded(this.groupsOf(user.user)) : undefined,
    ]);
    const enriched: UserRef = { ...user };
    if (name) enriched.displayName = name;
    if (roles?.length) enriched.roles = [...new Set([...(user.roles ?? []), ...roles])];
    return enriched;
  }

  /** The user's display name from users.info, or undefined when it cannot be had. */
  displayName(userId: string): Promise<string | undefined> {
    return this.names.get(userId, async () => {
      try {
        const result = await this.client.users.info({ user: userId });
        const name = result.user && !result.user.deleted ? slackDisplayName(result.user) : undefined;
        return { value: name, ttlMs: this.ttlMs };
      } catch (error) {
        this.report('users.info', error);
        return { value: undefined, ttlMs: this.failureTtlMs };
      }
    });
  }

  /** The configured user groups that list the user as a member. */
  async groupsOf(userId: string): Promise<string[]> {
    const memberships = await Promise.all(
      this.groups.map(async (group) => ((await this.membersOf(group))?.has(userId) ? group : undefined)),
    );
    return memberships.filter((g): g is string => g !== undefined);
  }

  private membersOf(group: string): Promise<Set<string> | undefined> {
    return this.members.get(group, async () => {
      try {
        const result = await this.client.usergroups.users.list({ usergroup: group });
        return { value: new Set(result.users ?? []), ttlMs: this.ttlMs };
      } catch (error) {
        this.report(`usergroups.users.list ${group}`, error);
        return { value: undefined, ttlMs: this.failureTtlMs };
      }
    });
  }

  /** Waits at most timeoutMs; a slower lookup finishes into the cache for the next event. */
  private bounded<T>(lookup: Promise<T>): Promise<T | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), this.timeoutMs);
    });
    return Promise.race([lookup, timeout]).finally(() => clearTimeout(timer));
  }

  private report(what: string, error: unknown): void {
    const code = slackErrorCode(error) ?? (error instanceof Error ? error.message : String(error));
    const key = `${what}:${code}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    const fix =
      code === 'missing_scope'
        ? ' (add users:read and usergroups:read from manifest.yml and reinstall the app)'
        : '';
    this.warn(`threadql: Slack ${what} failed: ${code}${fix}; going on without it`);
  }
}
