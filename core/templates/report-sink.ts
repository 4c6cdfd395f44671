/**
 * Where the scheduler's output goes: the port it depends on instead of the conversation engine or a platform.
 * bot/ implements it over the running ChatPlatforms (postToChannel / postDirect); tests can record into memory.
 */
import type { ChannelInfo, ChannelRef, Reply } from '../conversation/chat-platform.ts';

export interface ReportSink {
  /** Posts `reply` as a new top-level message in `channel` (files and images included). */
  postToChannel(channel: ChannelRef, reply: Reply): Promise<void>;
  /** Sends `reply` to a user (a user key, `platform:workspace:user`) as a direct message. */
  notifyUser(userKey: string, reply: Reply): Promise<void>;
  /** Whether a report may be posted into `channel` and who reads it (undefined when the platform cannot tell). */
  describeChannel?(channel: ChannelRef): Promise<ChannelInfo | undefined>;
}
