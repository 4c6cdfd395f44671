/**
 * The scheduler's ReportSink over the chat platforms this process runs: a report goes to the platform of its
 * channel, a notice to the owner's platform by direct message. Platforms attach once started.
 */
import type {
  ChannelInfo,
  ChannelRef,
  ChatPlatform,
  PlatformName,
  Reply,
} from '../core/conversation/chat-platform.ts';
import { PlatformError } from '../core/errors.ts';
import type { ReportSink } from '../core/templates/report-sink.ts';

export class PlatformReportSink implements ReportSink {
  readonly #platforms = new Map<PlatformName, ChatPlatform>();

  /** Serves reports for this platform from now on. */
  attach(platform: ChatPlatform): void {
    this.#platforms.set(platform.name, platform);
  }

  /** The platforms attached, for the scheduler's workers. */
  names(): PlatformName[] {
    return [...this.#platforms.keys()];
  }

  async postToChannel(channel: ChannelRef, reply: Reply): Promise<void> {
    const platform = this.#platform(channel.platform);
    if (!platform.postToChannel) {
      throw new PlatformError('platform_failed', `${platform.name} cannot post into channels here.`);
    }
    await platform.postToChannel(channel, reply);
  }

  async notifyUser(userKey: string, reply: Reply): Promise<void> {
    const [name, workspace, ...rest] = userKey.split(':');
    const user = rest.join(':');
    const platform = this.#platform(name as PlatformName);
    if (!workspace || !user) throw new PlatformError('platform_failed', `not a user key: ${userKey}`);
    if (!platform.postDirect) {
      throw new PlatformError('platform_failed', `${platform.name} cannot send direct messages here.`);
    }
    await platform.postDirect({ platform: platform.name, workspace, user }, reply);
  }

  async describeChannel(channel: ChannelRef): Promise<ChannelInfo | undefined> {
    return this.#platform(channel.platform).describeChannel?.(channel);
  }

  #platform(name: PlatformName): ChatPlatform {
    const platform = this.#platforms.get(name);
    if (!platform)
      throw new PlatformError('platform_failed', `threadql does not run ${name} in this process.`);
    return platform;
  }
}
