/**
 * Migrations in the terminal shell: a one-line `migrate` with two inline code blocks gets its card, Edit asks for
 * both scripts one after the other and verifies them again, Request approval posts the approval card, the proposer's
 * own Approve is refused, `as bob` (an approver) approves and it is applied, and `migrations` / `migrations export
 * flyway` answer (files written to disk).
 */
import { existsSync, readFileSync } from 'node:fs';
import { ShellHarness } from '../support/shell-harness.ts';

let h: ShellHarness;

beforeAll(async () => {
  h = await ShellHarness.start('shell-migrations', {}, 'connections: []\napprovers:\n  shell: ["bob"]\n');
});
afterAll(() => h.close());

const fence = '```';

describe('migrations in the shell on the sample database', () => {
  it('proposes, edits (both scripts, verified again), requests approval and refuses the proposer’s approval', async () => {
    h.send(
      `migrate add_status_index ${fence}CREATE INDEX orders_status_idx ON orders (status)${fence} ${fence}DROP INDEX orders_x${fence}`,
    );
    const card = await h.waitFor(/\[1\] Edit {2}\[2\] Cancel/);
    expect(card).toContain('Verification failed');
    expect(card).toContain('down fails after up');

    h.send('1');
    await h.waitFor(/Up script \(current value below\)[\s\S]*?"\."/);
    h.send('CREATE INDEX orders_status_idx ON orders (status)');
    h.send('.');
    await h.waitFor(/Down script \(must undo up\)[\s\S]*?"\."/);
    h.send('DROP INDEX orders_status_idx');
    h.send('.');
    const edited = await h.waitFor(/\[1\] Request approval {2}\[2\] Edit {2}\[3\] Cancel/);
    expect(edited).toContain('Verified');
    expect(edited).toContain('adds index orders_status_idx on orders (status)');
    expect(edited).toContain('Edited by ana; verified again.');
    // No browser here: the card says so and attaches the before/after diagram as mermaid text instead.
    expect(edited).toContain('No ER diagram image:');
    expect(edited).toContain('It is attached as mermaid text');
    const mermaid = /📎 (\S+\.mmd)/.exec(edited)?.[1];
    expect(mermaid && existsSync(mermaid)).toBe(true);
    expect(readFileSync(mermaid!, 'utf8')).toContain('orders_status_idx');

    h.send('1');
    const approval = await h.waitFor(/\[1\] Approve {2}\[2\] Reject/);
    expect(approval).toMatch(/to apply migration `?\d{14}_add_status_index`? on sample, requested by ana/);
    expect(approval).toContain('bob');
    expect(approval).toContain('1 approval needed from the approvers');
    h.send('1');
    const refused = await h.waitFor(/so someone else has to approve it\./);
    expect(refused).toContain('threadql (only you)> You proposed');

    // One terminal plays both people: `as bob` switches to an approver, whose Approve applies it.
    h.send('as bob');
    await h.waitFor(/You are now acting as bob \(an approver\)/);
    h.send('1');
    const applied = await h.waitFor(/Migration `?\d{14}_add_status_index`? applied on sample[^\n]*/);
    expect(applied).toContain('requested by ana, approved by bob');

    h.send('migrations');
    const list = await h.waitFor(/No drift/);
    expect(list).toMatch(/\d{14}_add_status_index`? applied by bob/);

    h.send('migrations export flyway');
    const exported = await h.waitFor(/U\d{14}__add_status_index\.sql/);
    const paths = [...exported.matchAll(/📎 (\S+\.sql)/g)].map((m) => m[1]!);
    expect(paths).toHaveLength(2);
    expect(paths.every((p) => existsSync(p))).toBe(true);
    expect(readFileSync(paths[0]!, 'utf8')).toContain('CREATE INDEX orders_status_idx ON orders (status)');
  });
});
