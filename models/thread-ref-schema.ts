import { Schema } from 'mongoose';
import type { PlatformName, ThreadRef } from '../core/conversation/chat-platform.ts';

export const PLATFORMS: readonly PlatformName[] = ['slack', 'discord', 'shell'];

/** Embedded ThreadRef (`platform:workspace:channel:thread`), shared by sessions, approvals and schedules. */
export const threadRefSchema = new Schema<ThreadRef>(
  {
    platform: { type: String, enum: PLATFORMS, required: true },
    workspace: { type: String, required: true, trim: true },
    channel: { type: String, required: true, trim: true },
    thread: { type: String, required: true, trim: true },
  },
  { _id: false },
);

/** Where a scheduled report posts: a channel, no thread. */
export interface ChannelTarget {
  platform: PlatformName;
  workspace: string;
  channel: string;
}

export const channelTargetSchema = new Schema<ChannelTarget>(
  {
    platform: { type: String, enum: PLATFORMS, required: true },
    workspace: { type: String, required: true, trim: true },
    channel: { type: String, required: true, trim: true },
  },
  { _id: false },
);
