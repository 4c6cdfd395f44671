/**
 * The renderers behind results: a chart worker pool, and a warm Chromium for ER-diagram images when one is found
 * (without it ER diagrams go out as mermaid text).
 */
import type { Env } from '../../config/env.ts';
import { createResultRenderers } from '../../core/conversation/create-result-renderers.ts';
import type { ResultRenderers } from '../../core/conversation/engine-ports.ts';
import { ChartPool } from '../../renderers/chart/chart-pool.ts';
import { MermaidBrowser } from '../../renderers/erd/mermaid-browser.ts';
import { findExecutable } from '../local-services/find-executable.ts';
import type { StartupLedger } from './startup-ledger.ts';

export interface ResultRenderingOptions {
  env: Env;
  /** PATH for finding chromium. */
  pathList: string | undefined;
  /** Start a warm Chromium for ERD images (default true when one is found). */
  erdBrowser?: boolean | undefined;
}

/** Starts the chart pool (and Chromium when found and wanted) and returns the engine's renderers over them. */
export function createResultRendering(
  options: ResultRenderingOptions,
  ledger: StartupLedger,
): ResultRenderers {
  const { env, pathList } = options;
  const { closers, lines } = ledger;
  const chromium =
    env.THREADQL_CHROMIUM ??
    env.PUPPETEER_EXECUTABLE_PATH ??
    findExecutable('chromium', pathList) ??
    findExecutable('chromium-browser', pathList);
  let browser: MermaidBrowser | undefined;
  if (chromium && options.erdBrowser !== false) {
    browser = new MermaidBrowser({ executablePath: chromium });
    closers.push(() => browser!.close());
    lines.push(`erd: chromium at ${chromium}`);
  } else lines.push('erd: no chromium found; ER diagrams are sent as mermaid text');

  const charts = new ChartPool();
  closers.push(() => charts.close());
  return createResultRenderers({ charts, ...(browser ? { browser } : {}) });
}
