import type { ButtonClick, Reply } from '../../core/conversation/chat-platform.ts';
import { PlatformError } from '../../core/errors.ts';
import { DiscordPlatform } from '../../bot/discord/discord-platform.ts';
import { FakeDiscord, type FakeUser } from '../fakes/fake-discord.ts';
import { RecordingHandlers } from './recording-handlers.ts';

let fake: FakeDiscord;
let platform: DiscordPlatform;
let handlers: RecordingHandlers;
let alice: FakeUser;
let bob: FakeUser;

const card: Reply = {
  parts: [
    { type: 'text', text: 'Weekly signups by country this quarter.' },
    {
      type: 'code',
      code: "SELECT country, count(*) FROM customers WHERE created_at >= date_trunc('quarter', now()) GROUP BY 1",
      language: 'sql',
    },
    { type: 'context', text: 'shop · read · EXPLAIN estimates ~12k rows' },
    {
      type: 'buttons',
      buttons: [
        { action: 'run', label: 'Run', style: 'primary', value: 'tok123' },
        { action: 'edit', label: 'Edit SQL', value: 'tok123' },
        { action: 'cancel', label: 'Cancel', style: 'danger', value: 'tok123' },
      ],
    },
  ],
  fallback: 'Confirm the SQL',
};

async function threadWithCard(): Promise<{ thread: ButtonClick['thread']; messageId: string }> {
  const root = fake.userMessage({ author: alice, content: 'signups by country', mentionBot: true });
  await handlers.until(() => handlers.messages.some((m) => m.id === root.id), 'the mention');
  const thread = handlers.messages.find((m) => m.id === root.id)!.thread;
  const posted = await platform.post(thread, card);
  return { thread, messageId: posted.messageId };
}

function callbacksOf(interactionId: string) {
  return fake.callsTo('POST', new RegExp(`^/interactions/${interactionId}/[^/]+/callback$`));
}

beforeAll(async () => {
  fake = await FakeDiscord.start();
  alice = fake.user('alice');
  bob = fake.user('bob');
  handlers = new RecordingHandlers();
  platform = new DiscordPlatform({
    token: fake.token,
    apiUrl: fake.apiUrl,
    commands: { mode: 'global', guildIds: [] },
    ackAfterMs: 200,
    rest: { retries: 0 },
  });
  await platform.start(handlers);
});

afterEach(() => {
  handlers.onClick = undefined;
});

afterAll(async () => {
  await platform?.stop();
  await fake?.close();
});

test('global registration uses the application id from READY', () => {
  expect(fake.callsTo('PUT', /\/commands$/).map((c) => c.path)).toEqual([
    `/applications/${fake.applicationId}/commands`,
  ]);
});

test('the confirm card is an embed with the SQL in a sql block and a row of buttons', async () => {
  const { messageId } = await threadWithCard();
  const stored = fake.messages.get(messageId)!;
  expect(stored.embeds).toHaveLength(1);
  expect(stored.embeds[0].description).toBe(
    "Weekly signups by country this quarter.\n```sql\nSELECT country, count(*) FROM customers WHERE created_at >= date_trunc('quarter', now()) GROUP BY 1\n```",
  );
  expect(stored.embeds[0].footer).toEqual({ text: 'shop · read · EXPLAIN estimates ~12k rows' });
  expect(stored.components).toEqual([
    {
      type: 1,
      components: [
        { type: 2, style: 1, label: 'Run', custom_id: 'threadql:run:tok123' },
        { type: 2, style: 2, label: 'Edit SQL', custom_id: 'threadql:edit:tok123' },
        { type: 2, style: 4, label: 'Cancel', custom_id: 'threadql:cancel:tok123' },
      ],
    },
  ]);
});

test('a button click becomes a ButtonClick with the clicking user and is acknowledged without a token header', async () => {
  const { thread, messageId } = await threadWithCard();
  const roleId = fake.botRoleId; // any role id the member holds
  const interaction = fake.clickButton({
    messageId,
    customId: 'threadql:run:tok123',
    user: bob,
    roles: [roleId],
  });
  await handlers.until(() => handlers.clicks.some((c) => c.id === interaction.id), 'the click');
  const click = handlers.clicks.find((c) => c.id === interaction.id)!;
  expect(click).toMatchObject({
    action: 'run',
    value: 'tok123',
    thread,
    message: { thread, messageId },
    user: { platform: 'discord', workspace: fake.guildId, user: bob.id, displayName: 'bob', roles: [roleId] },
  });
  await fake.waitFor(() => callbacksOf(interaction.id).length === 1, 'the acknowledgement');
  const [ack] = callbacksOf(interaction.id);
  expect(ack!.body).toEqual({ type: 6 }); // DEFERRED_UPDATE_MESSAGE
  expect(ack!.authorized).toBe(false);
});

test('a slow handler: the click is acknowledged before the handler finishes', async () => {
  const { messageId } = await threadWithCard();
  let acknowledgedWhileRunning = false;
  handlers.onClick = async (click) => {
    await fake.waitFor(() => callbacksOf(click.id).length === 1, 'the deferred update');
    acknowledgedWhileRunning = true;
  };
  const interaction = fake.clickButton({ messageId, customId: 'threadql:run:tok123', user: alice });
  await handlers.until(() => handlers.clicks.some((c) => c.id === interaction.id), 'the click');
  await platform.idle();
  expect(acknowledgedWhileRunning).toBe(true);
  expect(callbacksOf(interaction.id).map((c) => c.body.type)).toEqual([6]);
});

test('Edit SQL opens a modal as the first answer, and its submit becomes a ModalSubmit', async () => {
  const { thread, messageId } = await threadWithCard();
  handlers.onClick = async (click) => {
    await platform.openModal(click.trigger, {
      id: 'edit_sql',
      title: 'Edit SQL',
      submitLabel: 'Check',
      value: click.value,
      fields: [{ id: 'sql', label: 'SQL for shop', value: 'SELECT 1', multiline: true }],
    });
  };
  const click = fake.clickButton({ messageId, customId: 'threadql:edit:tok123', user: alice });
  await handlers.until(() => handlers.clicks.some((c) => c.id === click.id), 'the click');
  await platform.idle();
  const answers = callbacksOf(click.id);
  expect(answers).toHaveLength(1); // the modal is the answer: no deferUpdate after it
  expect(answers[0]!.body).toEqual({
    type: 9,
    data: {
      custom_id: 'threadql:edit_sql:tok123',
      title: 'Edit SQL',
      components: [
        {
          type: 18,
          label: 'SQL for shop',
          component: {
            type: 4,
            custom_id: 'sql',
            style: 2,
            value: 'SELECT 1',
            required: false,
            max_length: 4000,
          },
        },
      ],
    },
  });

  const submit = fake.submitModal({
    customId: 'threadql:edit_sql:tok123',
    fields: { sql: 'SELECT 2' },
    user: alice,
    messageId,
  });
  await handlers.until(() => handlers.submits.some((s) => s.id === submit.id), 'the submit');
  expect(handlers.submits.find((s) => s.id === submit.id)).toEqual({
    id: submit.id,
    thread,
    user: expect.objectContaining({ user: alice.id }),
    modalId: 'edit_sql',
    value: 'tok123',
    fields: { sql: 'SELECT 2' },
  });
  await fake.waitFor(() => callbacksOf(submit.id).length === 1, 'the submit acknowledgement');
  expect(callbacksOf(submit.id)[0]!.body).toEqual({ type: 6 });
});

test('a modal cannot be opened once the click was answered: a clear PlatformError', async () => {
  const { messageId } = await threadWithCard();
  let failure: unknown;
  handlers.onClick = async (click) => {
    await fake.waitFor(() => callbacksOf(click.id).length === 1, 'the deferred update');
    failure = await platform
      .openModal(click.trigger, {
        id: 'edit_sql',
        title: 'Edit SQL',
        submitLabel: 'Check',
        value: 'v',
        fields: [],
      })
      .catch((e: unknown) => e);
  };
  const click = fake.clickButton({ messageId, customId: 'threadql:edit:tok123', user: alice });
  await handlers.until(() => handlers.clicks.some((c) => c.id === click.id), 'the click');
  await platform.idle();
  expect(failure).toBeInstanceOf(PlatformError);
  expect((failure as PlatformError).message).toMatch(/only as the first answer/);
});

test('postEphemeral answers the user’s own click ephemerally, then follows up ephemerally', async () => {
  const { messageId } = await threadWithCard();
  handlers.onClick = async (click) => {
    await platform.postEphemeral(click.thread, click.user, 'Only the asker or an approver can do that.');
  };
  const click = fake.clickButton({ messageId, customId: 'threadql:cancel:tok123', user: bob });
  await handlers.until(() => handlers.clicks.some((c) => c.id === click.id), 'the click');
  await platform.idle();
  const answers = callbacksOf(click.id);
  expect(answers).toHaveLength(1);
  expect(answers[0]!.body).toMatchObject({
    type: 4,
    data: { content: 'Only the asker or an approver can do that.', flags: 64 },
  });

  const c = handlers.clicks.find((x) => x.id === click.id)!;
  await platform.postEphemeral(c.thread, c.user, 'And a second note.');
  const followUps = fake.callsTo('POST', new RegExp(`^/webhooks/${fake.applicationId}/${click.token}$`));
  expect(followUps).toHaveLength(1);
  expect(followUps[0]!.body).toMatchObject({ content: 'And a second note.', flags: 64 });
  expect(followUps[0]!.authorized).toBe(false);
});

test('postEphemeral with no interaction to answer falls back to a direct message', async () => {
  const { thread } = await threadWithCard();
  const carol = fake.user('carol');
  await platform.postEphemeral(
    thread,
    { platform: 'discord', workspace: fake.guildId, user: carol.id },
    'Your report is ready.',
  );
  const open = fake.callsTo('POST', /^\/users\/@me\/channels$/).at(-1)!;
  expect(open.body).toEqual({ recipient_id: carol.id });
  const dm = [...fake.channels.values()].find((ch) => ch.type === 1 && ch.recipients?.[0]?.id === carol.id)!;
  const sent = fake.callsTo('POST', new RegExp(`^/channels/${dm.id}/messages$`));
  expect(sent).toHaveLength(1);
  expect(sent[0]!.body.content).toBe(`(about <#${thread.thread}>)\nYour report is ready.`);
});

test('clicks on components threadql did not make are ignored and left unanswered', async () => {
  const { messageId } = await threadWithCard();
  const before = handlers.clicks.length;
  const click = fake.clickButton({ messageId, customId: 'someone-else:thing', user: alice });
  const marker = fake.clickButton({ messageId, customId: 'threadql:run:marker', user: alice });
  await handlers.until(() => handlers.clicks.some((c) => c.id === marker.id), 'the marker click');
  await platform.idle();
  expect(handlers.clicks.slice(before).map((c) => c.id)).toEqual([marker.id]);
  expect(callbacksOf(click.id)).toHaveLength(0);
});
