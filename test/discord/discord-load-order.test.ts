/**
 * vega-lite puts a zero-argument toJSON on Set.prototype; @vladfrangu/async_event_emitter (under discord.js)
 * probes every such method at load time and threw when vega-lite came first. bot/discord/discord-load-guard.ts
 * re-declares it; these tests load the renderers and then the adapter in that order, in one module registry.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { resultOf } from '../renderers/support/results.ts';

const DISCORD_DIR = join(import.meta.dirname, '../../bot/discord');

test('the chart renderer (vega-lite) first, then the Discord adapter: both load and both still work', async () => {
  const { renderChart } = await import('../../renderers/chart/render-chart.ts');
  // vega-lite is loaded and has patched Set.prototype: the hazard is armed.
  expect(typeof (Set.prototype as { toJSON?: unknown }).toJSON).toBe('function');

  const { DiscordPlatform } = await import('../../bot/discord/discord-platform.ts');
  const { createDiscordClient } = await import('../../bot/discord/create-discord-client.ts');
  expect(new DiscordPlatform({ token: 'x' }).name).toBe('discord');
  const client = createDiscordClient();
  expect(typeof client.on).toBe('function'); // the async event emitter under the client was built
  await client.destroy();

  // vega-lite's own serialisation of sets is unchanged, and JSON.stringify still calls it with its key.
  expect(JSON.stringify({ s: new Set([1, 'a']) })).toBe('{"s":"Set(1,\\"a\\")"}');
  const chart = await renderChart(
    resultOf(
      [
        ['country', 'string'],
        ['customers', 'number'],
      ],
      [
        ['US', 5],
        ['DE', 3],
      ],
    ),
    { title: 'Customers by country' },
  );
  expect(chart.type).toBe('bar');
});

test('discord.js values come only through bot/discord/discord-js.ts (elsewhere: type imports only)', () => {
  const files = readdirSync(DISCORD_DIR).filter((f) => f.endsWith('.ts') && f !== 'discord-js.ts');
  const offenders: string[] = [];
  let throughChokepoint = 0;
  for (const file of files) {
    const source = readFileSync(join(DISCORD_DIR, file), 'utf8');
    for (const m of source.matchAll(/^import\s+(type\s+)?[^;]*?from\s+'([^']+)';/gms)) {
      const [, typeOnly, from] = m;
      if (/^(discord\.js|@discordjs\/)/.test(from!) && !typeOnly) offenders.push(`${file}: ${from}`);
      if (from === './discord-js.ts') throughChokepoint++;
    }
  }
  expect(offenders).toEqual([]);
  expect(throughChokepoint).toBeGreaterThanOrEqual(5);
});
