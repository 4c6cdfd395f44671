// The renderers' public API: pure functions from results and schemas to text, blocks and bytes, plus the one
// stateful piece (MermaidBrowser) that callers start once, inject, and close once.
export { renderTextTable, escapeForCodeBlock } from './table/text-table.ts';
export type { TextTable, TextTableOptions, TextEscape } from './table/text-table.ts';
export {
  renderSlackTableBlock,
  SLACK_TABLE_MAX_COLUMNS,
  SLACK_TABLE_MAX_ROWS,
} from './table/slack-table-block.ts';
export type {
  SlackTableBlock,
  SlackTableBlockOptions,
  SlackTableBlockResult,
} from './table/slack-table-block.ts';
export { renderTablePng } from './table/table-png.ts';
export type { TablePng, TablePngOptions } from './table/table-png.ts';
export { chooseTableForm } from './table/choose-table-form.ts';
export type { TableForm, TableSurface, TableFormOptions } from './table/choose-table-form.ts';
export { rowCountCaption, formatCount } from './table/row-count-caption.ts';
export { renderCsv, csvStream, csvChunks, DEFAULT_CSV_MAX_BYTES } from './csv/csv-export.ts';
export type { CsvBuffer, CsvInput, CsvOptions, CsvSummary } from './csv/csv-export.ts';
export { renderChart, planChart, renderVegaLite } from './chart/render-chart.ts';
export type { ChartOptions, ChartPlan, NoChart, RenderedChart } from './chart/render-chart.ts';
export { chooseChart } from './chart/choose-chart.ts';
export type { ChartChoice } from './chart/choose-chart.ts';
export { CHART_TYPES, CHART_HINT_JSON_SCHEMA, isChartType, parseChartHint } from './chart/chart-hint.ts';
export type { ChartHint, ChartType } from './chart/chart-hint.ts';
export { schemaToMermaid, mermaidId } from './erd/erd-mermaid.ts';
export type { ErdOptions, ErdText } from './erd/erd-mermaid.ts';
export { renderErd } from './erd/render-erd.ts';
export type { ErdImage, RenderErdOptions } from './erd/render-erd.ts';
export { MermaidBrowser } from './erd/mermaid-browser.ts';
export type { MermaidBrowserOptions, MermaidPng } from './erd/mermaid-browser.ts';
