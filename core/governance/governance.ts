/**
 * Data governance as the flows use it, per connection: who may query it, what the model may see of its schema,
 * where its results go in a given channel, whether a scheduled report may go into a channel, and the admin view.
 * Masking itself happens in the connections' drivers (governed-driver.ts), so no flow can forget it.
 */
import type { ConnectionConfig } from '../../config/config-file.ts';
import type { ChannelInfo, ChannelRef, ChatPlatform, UserRef } from '../conversation/chat-platform.ts';
import type { SchemaSnapshot } from '../db/database-dialect.ts';
import { NotFoundError } from '../errors.ts';
import { checkAccess, type AccessDecision } from './check-access.ts';
import { checkScheduledReport, type ScheduledReportCheck } from './check-scheduled-report.ts';
import { deliveryFor, type Delivery } from './delivery-policy.ts';
import { describeAccess, type DescribeAccessOptions } from './describe-access.ts';
import type { ResultMasker } from './result-masker.ts';

type GovernedConfig = Pick<
  ConnectionConfig,
  'name' | 'type' | 'channels' | 'access' | 'maskedColumns' | 'visibility' | 'sensitive'
>;

export class Governance {
  readonly #configs: readonly GovernedConfig[];
  readonly #masker: ResultMasker;

  constructor(connections: readonly GovernedConfig[], masker: ResultMasker) {
    this.#configs = connections;
    this.#masker = masker;
  }

  /** The connections governed, in threadql.yml order. */
  get connections(): readonly GovernedConfig[] {
    return this.#configs;
  }

  /** Whether `user` may query the connection (reads); a refusal says what to ask an admin for. */
  checkAccess(connectionName: string, user: UserRef): AccessDecision {
    return checkAccess(this.#config(connectionName), user);
  }

  /** The schema as the model may see it: every column, the masked ones marked. */
  schemaForModel<S extends Pick<SchemaSnapshot, 'tables'>>(connectionName: string, schema: S): S {
    return this.#masker.schemaForModel(connectionName, schema);
  }

  /**
   * Where the connection's results go in `channel` of `platform`: asks the platform who can read the channel
   * (when it can tell, and only when the answer matters); a failed lookup counts as "not known".
   */
  async delivery(platform: ChatPlatform, channel: ChannelRef, connectionName: string): Promise<Delivery> {
    const config = this.#config(connectionName);
    const visibility = config.visibility ?? 'channel';
    if (visibility === 'channel' || (visibility === 'auto' && !config.sensitive))
      return deliveryFor(config, undefined);
    return deliveryFor(config, await channelInfo(platform, channel));
  }

  /** Whether a scheduled report of the connection may be posted into a channel described by `channel`. */
  checkScheduledReport(
    connectionName: string,
    channel: Pick<ChannelInfo, 'audience' | 'name'> | undefined,
  ): ScheduledReportCheck {
    return checkScheduledReport(this.#config(connectionName), channel);
  }

  /** The admin view of one connection. */
  describe(connectionName: string, options: DescribeAccessOptions): string {
    return describeAccess(this.#config(connectionName), options);
  }

  #config(name: string): GovernedConfig {
    const config = this.#configs.find((c) => c.name.toLowerCase() === name.toLowerCase());
    if (!config) {
      throw new NotFoundError(`There is no connection named "${name}".`, {
        hint: `Known connections: ${this.#configs.map((c) => c.name).join(', ') || 'none'}.`,
      });
    }
    return config;
  }
}

/**
 * Who can read a channel, as the platform says; undefined when it cannot tell. Without describeChannel, direct
 * messages are still known by their ids (Discord's `@me` workspace, Slack's `D…` channels), and the shell is one
 * person at a terminal.
 */
export async function channelInfo(
  platform: ChatPlatform,
  channel: ChannelRef,
): Promise<ChannelInfo | undefined> {
  const direct: ChannelInfo = { canPost: true, audience: 'direct' };
  if (channel.platform === 'shell') return direct;
  if (platform.describeChannel) {
    try {
      const info = await platform.describeChannel(channel);
      // When the bot cannot post there (no access, a missing scope) the audience is a guess: treat it as unknown.
      return info.canPost ? info : undefined;
    } catch {
      return undefined;
    }
  }
  if (channel.platform === 'discord' && channel.workspace === '@me') return direct;
  if (channel.platform === 'slack' && /^D[A-Z0-9]+$/.test(channel.channel)) return direct;
  return undefined;
}
