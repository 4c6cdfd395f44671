/**
 * The real Bolt app in Socket Mode: apps.connections.open hands out the fake's ws:// URL, the fake says hello and
 * sends envelopes, and the adapter's acks are recorded. Also covers the optional AI-app (assistant) surface.
 */
import { LogLevel } from '@slack/bolt';
import { threadKey, type ThreadRef } from '../../core/conversation/chat-platform.ts';
import { SlackPlatform } from '../../bot/slack/slack-platform.ts';
import { FAKE_TEAM_ID, FakeSlackApi, eventCallback } from '../fakes/fake-slack-api.ts';
import {
  RecordingHandlers,
  appMention,
  blockActions,
  channelMessage,
  nextTs,
  slashCommand,
} from './slack-payloads.ts';

const fake = new FakeSlackApi();
const handlers = new RecordingHandlers();
const active = new Set<string>();
let platform: SlackPlatform;

function thread(channel: string, ts: string): ThreadRef {
  return { platform: 'slack', workspace: FAKE_TEAM_ID, channel, thread: ts };
}

beforeAll(async () => {
  await fake.start();
  platform = new SlackPlatform({
    botToken: 'xoxb-test-token',
    appToken: 'xapp-test-token',
    apiUrl: fake.apiUrl,
    retryConfig: { retries: 0 },
    isActiveThread: async (t) => active.has(threadKey(t)),
    assistant: {
      suggestedPrompts: [
        { title: 'Weekly signups', message: 'How many customers signed up each week this quarter?' },
        { title: 'Schema', message: 'Show the schema around orders' },
      ],
      promptsTitle: 'Ask your data',
    },
    logLevel: LogLevel.ERROR,
  });
  await platform.start(handlers);
});

afterAll(async () => {
  await platform?.stop();
  await fake.stop();
});

beforeEach(() => {
  handlers.reset();
  fake.calls.length = 0;
});

describe('SlackPlatform in Socket Mode', () => {
  it('connects with the app token through apps.connections.open', () => {
    expect(platform.mode).toBe('socket');
    expect(fake.socketConnected).toBe(true);
    expect(platform.httpAddress).toBeUndefined();
  });

  it('acks an app_mention envelope and delivers the IncomingMessage', async () => {
    const event = appMention('revenue by month');
    await fake.sendEnvelope('events_api', eventCallback(event));
    await handlers.until(() => handlers.messages.length === 1);
    expect(handlers.messages[0]).toMatchObject({
      thread: thread('C0GROWTH', event.ts),
      user: { platform: 'slack', workspace: FAKE_TEAM_ID, user: 'U0ALICE' },
      text: 'revenue by month',
    });
  });

  it('delivers a thread reply in an active thread, once even when Slack retries the envelope', async () => {
    const root = nextTs();
    active.add(threadKey(thread('C0GROWTH', root)));
    const body = eventCallback(channelMessage('only Germany', { thread_ts: root }));
    await fake.sendEnvelope('events_api', body);
    await fake.sendEnvelope('events_api', body, 1);
    await platform.idle();
    expect(handlers.messages.map((m) => m.text)).toEqual(['only Germany']);
  });

  it('acks a block_actions envelope and delivers the ButtonClick', async () => {
    const root = nextTs();
    const card = nextTs();
    await fake.sendEnvelope(
      'interactive',
      blockActions({ channel: 'C0GROWTH', messageTs: card, threadTs: root, action: 'run', value: 'tok-3' }),
    );
    await handlers.until(() => handlers.clicks.length === 1);
    expect(handlers.clicks[0]).toMatchObject({
      thread: thread('C0GROWTH', root),
      action: 'run',
      value: 'tok-3',
    });
  });

  it('answers /threadql help in the ack payload', async () => {
    const ack = (await fake.sendEnvelope('slash_commands', slashCommand('help', fake.responseUrl()))) as {
      text?: string;
    };
    expect(ack.text).toContain('/threadql schema [table]');
  });

  it('sets suggested prompts when an assistant thread starts', async () => {
    const ts = nextTs();
    await fake.sendEnvelope(
      'events_api',
      eventCallback({
        type: 'assistant_thread_started',
        assistant_thread: {
          user_id: 'U0ALICE',
          context: { channel_id: 'C0GROWTH', team_id: FAKE_TEAM_ID },
          channel_id: 'D0ALICE',
          thread_ts: ts,
        },
        event_ts: ts,
      }),
    );
    const [call] = await fake.waitForCalls('assistant.threads.setSuggestedPrompts');
    expect(call!.args).toMatchObject({ channel_id: 'D0ALICE', thread_ts: ts, title: 'Ask your data' });
    expect((call!.args.prompts as { title: string }[]).map((p) => p.title)).toEqual([
      'Weekly signups',
      'Schema',
    ]);
  });

  it('sets a status and title for a question in an assistant thread, then delivers it', async () => {
    const root = nextTs();
    await fake.sendEnvelope(
      'events_api',
      eventCallback(
        channelMessage('top 5 products?', { channel: 'D0ALICE', channel_type: 'im', thread_ts: root }),
      ),
    );
    await handlers.until(() => handlers.messages.length === 1);
    expect(handlers.messages[0]!.thread).toEqual(thread('D0ALICE', root));
    const [status] = fake.callsOf('assistant.threads.setStatus');
    expect(status!.args).toMatchObject({ channel_id: 'D0ALICE', thread_ts: root, status: 'is thinking…' });
    const [title] = fake.callsOf('assistant.threads.setTitle');
    expect(title!.args).toMatchObject({ channel_id: 'D0ALICE', thread_ts: root, title: 'top 5 products?' });
  });
  it("answers in an assistant thread carry Slack's native feedback buttons; channel threads keep plain buttons", async () => {
    const root = nextTs();
    await fake.sendEnvelope(
      'events_api',
      eventCallback(channelMessage('revenue?', { channel: 'D0ALICE', channel_type: 'im', thread_ts: root })),
    );
    await handlers.until(() => handlers.messages.length === 1);
    const result = {
      fallback: '3 rows from sample',
      parts: [
        { type: 'context' as const, text: 'sample · 3 rows' },
        {
          type: 'buttons' as const,
          buttons: [
            { action: 'feedback_up', label: '👍', value: 's:1' },
            { action: 'feedback_down', label: '👎', value: 's:1' },
          ],
        },
      ],
    };
    await platform.post(thread('D0ALICE', root), result);
    await platform.post(thread('C0GROWTH', nextTs()), result);
    const [assistantPost, channelPost] = fake
      .callsOf('chat.postMessage')
      .map((c) => (c.args.blocks as { type: string; elements?: { type: string }[] }[]).at(-1)!);
    expect(assistantPost).toMatchObject({
      type: 'context_actions',
      elements: [{ type: 'feedback_buttons', action_id: 'threadql:feedback' }],
    });
    expect(channelPost!.type).toBe('actions');
    expect(channelPost!.elements!.map((e) => e.type)).toEqual(['button', 'button']);
  });
});
