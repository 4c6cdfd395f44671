import type { ChatPlatform } from '../../core/conversation/chat-platform.ts';
import { DiscordPlatform } from '../discord/discord-platform.ts';
import { SlackPlatform } from '../slack/slack-platform.ts';
import type { ReadinessCheck } from './operator-endpoints.ts';

/** Whether each started chat platform can still hear from its platform (listener up, socket or gateway connected). */
export function platformReadiness(platforms: readonly ChatPlatform[]): ReadinessCheck[] {
  return platforms.map((platform) => ({
    name: platform.name,
    check: async () => {
      if (platform instanceof SlackPlatform && !platform.isReady())
        throw new Error(
          platform.mode === 'socket' ? 'Socket Mode is not connected' : 'the HTTP listener is closed',
        );
      if (platform instanceof DiscordPlatform) {
        let ready: boolean;
        try {
          ready = platform.client.isReady();
        } catch {
          // Not started, or stopped.
          ready = false;
        }
        if (!ready) throw new Error('the Discord gateway is not connected');
      }
    },
  }));
}
