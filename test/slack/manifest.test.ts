/**
 * manifest.yml must grant what the Slack adapter uses: the events it listens to, the scopes its Web API calls need,
 * the slash command it registers, interactivity for buttons and modals, and the assistant surface.
 */
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';

interface Manifest {
  _metadata: { major_version: number };
  display_information: { name: string; description: string; long_description?: string };
  features: {
    bot_user: { display_name: string };
    app_home?: { messages_tab_enabled?: boolean };
    slash_commands: { command: string; description: string; usage_hint?: string }[];
    assistant_view: {
      assistant_description: string;
      suggested_prompts?: { title: string; message: string }[];
    };
  };
  oauth_config: { scopes: { bot: string[] } };
  settings: {
    event_subscriptions: { bot_events: string[] };
    interactivity: { is_enabled: boolean };
    socket_mode_enabled: boolean;
    org_deploy_enabled: boolean;
  };
}

const manifest = parse(await readFile(new URL('../../manifest.yml', import.meta.url), 'utf8')) as Manifest;

describe('manifest.yml', () => {
  it('declares the bot user, the /threadql command with a usage hint, and the assistant view', () => {
    expect(manifest._metadata.major_version).toBe(1);
    expect(manifest.display_information.name).toBe('threadql');
    expect(manifest.display_information.description.length).toBeLessThanOrEqual(140);
    expect(manifest.display_information.long_description!.length).toBeGreaterThanOrEqual(175);
    expect(manifest.features.bot_user.display_name).toBe('threadql');
    expect(manifest.features.slash_commands).toEqual([
      expect.objectContaining({ command: '/threadql', usage_hint: 'ask <question> | schema [table] | help' }),
    ]);
    expect(manifest.features.assistant_view.assistant_description).toBeTruthy();
    // DMs (message.im) only reach a bot whose Messages tab is on.
    expect(manifest.features.app_home?.messages_tab_enabled).toBe(true);
  });

  it('grants exactly the scopes the adapter needs', () => {
    expect([...manifest.oauth_config.scopes.bot].sort()).toEqual(
      [
        'app_mentions:read',
        'assistant:write',
        'channels:history',
        'channels:read',
        'chat:write',
        'commands',
        'files:write',
        'groups:history',
        'groups:read',
        'im:history',
        'im:read',
        'im:write',
        'mpim:history',
        'mpim:read',
        'usergroups:read',
        'users:read',
      ].sort(),
    );
  });

  it('grants the read scopes behind display names (users.info) and approvers by user group (usergroups.users.list)', () => {
    // Without them the adapter still works (ids instead of names, no group approvers), so nothing else would fail.
    expect(manifest.oauth_config.scopes.bot).toEqual(
      expect.arrayContaining(['users:read', 'usergroups:read']),
    );
  });

  it('subscribes to mentions, channel/group/DM/group-DM messages and assistant threads; interactivity and Socket Mode on', () => {
    expect([...manifest.settings.event_subscriptions.bot_events].sort()).toEqual(
      [
        'app_mention',
        'message.channels',
        'message.groups',
        'message.im',
        'message.mpim',
        'assistant_thread_started',
        'assistant_thread_context_changed',
      ].sort(),
    );
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
    expect(manifest.settings.socket_mode_enabled).toBe(true);
    expect(manifest.settings.org_deploy_enabled).toBe(false);
  });
});
