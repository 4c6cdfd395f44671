/**
 * Suggested first questions, drawn from a connection's schema: what Slack's assistant panel offers when a
 * thread opens. Deterministic and cheap: tables ranked by how connected they are, prompts from their columns.
 */
import type { SchemaSnapshot, TableInfo } from '../db/database-dialect.ts';

export interface SuggestedPrompt {
  title: string;
  message: string;
}

const TIME_TYPE = /date|time/i;
const TIME_NAME = /(_at|_on|_date|date|time)$/i;
const MEASURE_TYPE = /int|numeric|decimal|real|double|float|money|number/i;
const MEASURE_NAME = /(amount|total|price|revenue|cost|cents|value|quantity|qty)/i;
const LABEL_NAME = /^(name|title|label|category|country|status|plan|type)$/i;

const words = (name: string) => name.replace(/^.*\./, '').replace(/_/g, ' ');

function timeColumn(table: TableInfo): string | undefined {
  return table.columns.find((c) => TIME_TYPE.test(c.type) || (TIME_NAME.test(c.name) && !c.isPrimaryKey))
    ?.name;
}

function measureColumn(table: TableInfo): string | undefined {
  const fks = new Set(table.foreignKeys.flatMap((f) => f.columns));
  return table.columns.find(
    (c) => MEASURE_NAME.test(c.name) && MEASURE_TYPE.test(c.type) && !c.isPrimaryKey && !fks.has(c.name),
  )?.name;
}

function labelColumn(table: TableInfo): string | undefined {
  return table.columns.find((c) => LABEL_NAME.test(c.name))?.name;
}

/** Up to `max` prompts for a schema; generic ones when the schema offers nothing better. */
export function suggestPrompts(
  schema: Pick<SchemaSnapshot, 'tables' | 'relationships'>,
  max = 4,
): SuggestedPrompt[] {
  const degree = new Map<string, number>();
  for (const r of schema.relationships) {
    degree.set(r.fromTable, (degree.get(r.fromTable) ?? 0) + 1);
    degree.set(r.toTable, (degree.get(r.toTable) ?? 0) + 1);
  }
  const tables = schema.tables
    .filter((t) => t.kind !== 'view')
    .sort((a, b) => (degree.get(b.name) ?? 0) - (degree.get(a.name) ?? 0) || a.name.localeCompare(b.name));
  const prompts: SuggestedPrompt[] = [];
  const add = (p: SuggestedPrompt) => {
    if (prompts.length < max && !prompts.some((q) => q.message === p.message)) prompts.push(p);
  };

  for (const table of tables) {
    const time = timeColumn(table);
    if (time) {
      add({
        title: `${words(table.name)} over time`,
        message: `How many ${words(table.name)} per month over the last year (by ${words(time)})?`,
      });
      break;
    }
  }
  for (const table of tables) {
    const measure = measureColumn(table);
    const parent = table.foreignKeys
      .map((fk) => schema.tables.find((t) => t.name === fk.referencedTable))
      .find((t): t is TableInfo => !!t && !!labelColumn(t));
    if (measure && parent) {
      add({
        title: `Top ${words(parent.name)}`,
        message: `Top 10 ${words(parent.name)} by ${/^total/i.test(measure) ? '' : 'total '}${words(measure)} in ${words(table.name)}`,
      });
      break;
    }
  }
  for (const table of tables) {
    const label = labelColumn(table);
    if (label && table.columns.length > 2) {
      add({
        title: `${words(table.name)} by ${words(label)}`,
        message: `How many ${words(table.name)} are there per ${words(label)}?`,
      });
      break;
    }
  }
  const hub = tables[0];
  if (hub) add({ title: 'Draw the schema', message: `schema ${hub.name}` });
  add({ title: 'What can I ask?', message: 'help' });
  return prompts;
}
