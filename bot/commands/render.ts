/**
 * `threadql render --demo DIR`: runs a few questions against the embedded sample shop database (read-only, through
 * the SQLite dialect like any connection) and writes what threadql would post: chart PNGs with their vega-lite
 * specs, a table PNG and text table, a CSV, and the shop's ER diagram as PNG and mermaid text.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { loadEnv } from '../../config/env.ts';
import { pathList } from '../../config/process-info.ts';
import type { DatabaseDriver, QueryResult } from '../../core/db/database-dialect.ts';
import { sqliteDialect } from '../../core/db/sqlite/sqlite-dialect.ts';
import { toUserMessage } from '../../core/errors.ts';
import { ensureSampleDatabase } from '../../core/sample/sample-database.ts';
import type { ChartHint } from '../../renderers/chart/chart-hint.ts';
import { renderChart } from '../../renderers/chart/render-chart.ts';
import { renderCsv } from '../../renderers/csv/csv-export.ts';
import { MermaidBrowser } from '../../renderers/erd/mermaid-browser.ts';
import { renderErd } from '../../renderers/erd/render-erd.ts';
import { renderTablePng } from '../../renderers/table/table-png.ts';
import { renderTextTable } from '../../renderers/table/text-table.ts';
import { findExecutable } from '../local-services/find-executable.ts';

interface DemoChart {
  file: string;
  question: string;
  sql: string;
  hint?: ChartHint;
}

const PAID = `o.status NOT IN ('cancelled', 'refunded', 'pending')`;

/** The demo's questions: one per chart type, written as an analyst (or Claude) would. */
export const DEMO_CHARTS: DemoChart[] = [
  {
    file: 'line-monthly-revenue',
    question: 'What was our revenue each month over the last two years?',
    sql: `SELECT strftime('%Y-%m-01', o.ordered_at) AS month, ROUND(SUM(o.total_cents) / 100.0, 2) AS revenue_eur
          FROM orders o WHERE ${PAID} GROUP BY 1 ORDER BY 1`,
  },
  {
    file: 'line-signups-by-plan',
    question: 'How many customers signed up each month, by plan?',
    sql: `SELECT strftime('%Y-%m-01', signed_up_at) AS month, plan, COUNT(*) AS signups
          FROM customers GROUP BY 1, 2 ORDER BY 1, 2`,
  },
  {
    file: 'bar-revenue-by-product',
    question: 'Which products brought in the most revenue?',
    sql: `SELECT p.name AS product, ROUND(SUM(i.quantity * i.unit_price_cents) / 100.0, 2) AS revenue_eur
          FROM order_items i JOIN products p ON p.id = i.product_id JOIN orders o ON o.id = i.order_id
          WHERE ${PAID} GROUP BY p.name ORDER BY revenue_eur DESC`,
  },
  {
    file: 'stacked-orders-by-country-status',
    question: 'Orders by shipping country and status',
    sql: `SELECT o.shipping_country AS country, o.status, COUNT(*) AS orders
          FROM orders o GROUP BY 1, 2 ORDER BY 1, 2`,
  },
  {
    file: 'heatmap-orders-by-weekday-hour',
    question: 'When do customers order? Orders by weekday and hour (UTC)',
    sql: `SELECT CASE strftime('%w', ordered_at) WHEN '1' THEN 'Mon' WHEN '2' THEN 'Tue' WHEN '3' THEN 'Wed'
                 WHEN '4' THEN 'Thu' WHEN '5' THEN 'Fri' WHEN '6' THEN 'Sat' ELSE 'Sun' END AS weekday,
                 strftime('%H', ordered_at) || ':00' AS hour, COUNT(*) AS orders
          FROM orders GROUP BY strftime('%w', ordered_at), 2
          ORDER BY (CAST(strftime('%w', ordered_at) AS INTEGER) + 6) % 7, 2`,
    hint: { type: 'heatmap', x: 'hour', series: 'weekday', y: 'orders' },
  },
  {
    file: 'scatter-customer-orders-vs-revenue',
    question: 'Do customers who order more often also spend more per order?',
    sql: `SELECT c.id AS customer_id, COUNT(o.id) AS orders, ROUND(AVG(o.total_cents) / 100.0, 2) AS avg_order_eur
          FROM customers c JOIN orders o ON o.customer_id = c.id WHERE ${PAID} GROUP BY c.id`,
    hint: { type: 'scatter', x: 'orders', y: 'avg_order_eur' },
  },
  {
    file: 'big-number-revenue-last-12-months',
    question: 'What was our revenue in the last 12 months?',
    sql: `SELECT ROUND(SUM(o.total_cents) / 100.0, 2) AS revenue_eur FROM orders o
          WHERE ${PAID} AND o.ordered_at >= (SELECT datetime(MAX(ordered_at), '-12 months') FROM orders)`,
  },
];

const TABLE_SQL = `SELECT c.name AS customer, c.email, c.country, c.plan, COUNT(o.id) AS orders,
  MIN(date(o.ordered_at)) AS first_order, MAX(date(o.ordered_at)) AS last_order,
  ROUND(SUM(o.total_cents) / 100.0, 2) AS lifetime_eur,
  (SELECT COUNT(*) FROM support_tickets t WHERE t.customer_id = c.id AND t.closed_at IS NULL) AS open_tickets,
  c.last_login_at
  FROM customers c JOIN orders o ON o.customer_id = c.id
  WHERE o.status NOT IN ('cancelled', 'refunded')
  GROUP BY c.id ORDER BY lifetime_eur DESC`;

export interface RenderDemoOptions {
  dir: string;
  /** The sample database file; created when missing. */
  databasePath: string;
  /** Chromium for the ERD PNG; without it the ERD is written as mermaid text only. */
  chromiumPath?: string;
  log?: (line: string) => void;
}

async function query(driver: DatabaseDriver, sql: string, maxRows = 10_000): Promise<QueryResult> {
  return driver.executeRead(sql, { timeoutMs: 30_000, maxRows });
}

/** Writes the demo files into `dir`; returns the paths written. */
export async function renderDemo(options: RenderDemoOptions): Promise<string[]> {
  const log = options.log ?? (() => undefined);
  const dir = resolve(options.dir);
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  const write = async (name: string, data: string | Buffer, note = '') => {
    const path = join(dir, name);
    await writeFile(path, data);
    written.push(path);
    log(`${path}${note ? `  ${note}` : ''}`);
  };

  const dbPath = await ensureSampleDatabase(options.databasePath);
  const driver = await sqliteDialect.createDriver(`file://${resolve(dbPath)}`);
  try {
    for (const chart of DEMO_CHARTS) {
      const result = await query(driver, chart.sql);
      const out = await renderChart(result, { title: chart.question, hint: chart.hint });
      if (out.type === 'none') {
        log(`${chart.file}: no chart (${out.choice.reason})`);
        continue;
      }
      await write(`${chart.file}.png`, out.png, `${out.type}, ${out.width}×${out.height}`);
      await write(`${chart.file}.vl.json`, `${JSON.stringify(out.spec, null, 2)}\n`);
    }

    const orders = await query(driver, TABLE_SQL, 1000);
    const table = await renderTablePng(orders, { title: 'Top customers by lifetime value', maxRows: 25 });
    await write('table-top-customers.png', table.png, `${table.width}×${table.height}`);
    // The text table is what a code block shows: a narrower question that fits 80 characters.
    const narrow = await query(
      driver,
      `SELECT c.country, COUNT(DISTINCT c.id) AS customers, COUNT(o.id) AS orders,
         ROUND(SUM(o.total_cents) / 100.0, 2) AS revenue_eur, MAX(date(o.ordered_at)) AS last_order
       FROM customers c LEFT JOIN orders o ON o.customer_id = c.id AND o.status NOT IN ('cancelled', 'refunded')
       GROUP BY c.country ORDER BY revenue_eur DESC`,
    );
    const text = renderTextTable(narrow, { maxWidth: 80, maxRows: 10 });
    await write('table-revenue-by-country.txt', `${text.table}\n${text.caption}\n`);
    const csv = await renderCsv(orders);
    await write('top-customers.csv', csv.data, `${csv.rows} rows`);

    const schema = await driver.introspect();
    const browser = options.chromiumPath
      ? new MermaidBrowser({ executablePath: options.chromiumPath })
      : undefined;
    try {
      const erd = await renderErd(schema, { browser });
      await write('erd-shop.mmd', erd.mermaid);
      if (erd.image) await write('erd-shop.png', erd.image.png, `${erd.image.width}×${erd.image.height}`);
      else log(`erd-shop.png: not drawn: ${erd.error ? toUserMessage(erd.error) : 'no browser'}`);
      const around = await renderErd(schema, { browser, tables: ['payments'], depth: 1 });
      if (around.image) await write('erd-around-payments.png', around.image.png, around.tables.join(', '));
    } finally {
      await browser?.close();
    }
  } finally {
    await driver.close();
  }
  return written;
}

/** Adds `threadql render --demo DIR`. */
export function registerRenderCommand(program: Command): void {
  program
    .command('render')
    .description('write sample chart, table and ER-diagram images from the embedded sample database')
    .requiredOption('--demo <dir>', 'folder to write the sample images into')
    .option(
      '--chromium <path>',
      'Chromium binary for the ER diagram (default: THREADQL_CHROMIUM, PUPPETEER_EXECUTABLE_PATH, or chromium on PATH)',
    )
    .option('--database <file>', 'sample database file (default: THREADQL_DATA_DIR/sample/shop.db)')
    .action(async (options: { demo: string; chromium?: string; database?: string }) => {
      try {
        const env = loadEnv();
        const chromiumPath =
          options.chromium ??
          env.THREADQL_CHROMIUM ??
          env.PUPPETEER_EXECUTABLE_PATH ??
          findExecutable('chromium', pathList()) ??
          findExecutable('chromium-browser', pathList());
        const files = await renderDemo({
          dir: options.demo,
          databasePath: options.database ?? join(resolve(env.THREADQL_DATA_DIR), 'sample', 'shop.db'),
          chromiumPath,
          log: (line) => process.stdout.write(`${line}\n`),
        });
        process.stdout.write(`threadql render: wrote ${files.length} files into ${resolve(options.demo)}\n`);
      } catch (error) {
        process.stderr.write(`threadql render: ${toUserMessage(error)}\n`);
        process.exitCode = 1;
      }
    });
}
