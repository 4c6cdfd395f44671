import { loadEnv } from '../../config/env.ts';
import { ConfigError } from '../../core/errors.ts';
import { slackEnvOptions } from '../../bot/slack/slack-env-options.ts';

describe('slackEnvOptions', () => {
  it('is undefined when no bot token is configured', () => {
    expect(slackEnvOptions(loadEnv({}))).toBeUndefined();
  });

  it('chooses Socket Mode when an app token is set', () => {
    const options = slackEnvOptions(loadEnv({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1' }));
    expect(options).toEqual({ botToken: 'xoxb-1', appToken: 'xapp-1', mode: 'socket', port: 3000 });
  });

  it('chooses HTTP mode with the signing secret, port and API URL (slash added)', () => {
    const options = slackEnvOptions(
      loadEnv({
        SLACK_BOT_TOKEN: 'xoxb-1',
        SLACK_SIGNING_SECRET: 's3cret',
        PORT: '8080',
        SLACK_API_URL: 'http://127.0.0.1:9999/api',
      }),
    );
    expect(options).toEqual({
      botToken: 'xoxb-1',
      signingSecret: 's3cret',
      mode: 'http',
      port: 8080,
      apiUrl: 'http://127.0.0.1:9999/api/',
    });
  });

  it('names the missing setting when HTTP mode has no signing secret', () => {
    expect(() => slackEnvOptions(loadEnv({ SLACK_BOT_TOKEN: 'xoxb-1' }))).toThrow(ConfigError);
    expect(() => slackEnvOptions(loadEnv({ SLACK_BOT_TOKEN: 'xoxb-1' }))).toThrow(
      /SLACK_SIGNING_SECRET.*SLACK_APP_TOKEN/,
    );
  });
});
