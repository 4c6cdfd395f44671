/**
 * What every bench prints for `npm run bench` (bench/run-all.ts): one `BENCH_MEASURE {json}` line per measure,
 * beside the bench's own human-readable output. Run alone, a bench prints the same lines; run-all gathers them
 * into one table. Figures only: nothing here fails a run.
 */
import { loadavg } from 'node:os';

export interface Measure {
  /** What was measured, e.g. "ERD PNG, 30 tables, warm". */
  measure: string;
  /** The figure as a reader should see it, e.g. "p50 21 ms / p95 34 ms" or "median 380 ms (min 350, max 420)". */
  figure: string;
  /** The target, e.g. "≤ 1.5 s"; empty when the measure is informative only. */
  target: string;
  /** Whether the target was met; undefined when there is no target. */
  met?: boolean;
  /** Context: load average, sizes, counts. */
  note?: string;
}

export const MEASURE_PREFIX = 'BENCH_MEASURE ';

/** Prints one measure for run-all (and for a reader of the bench's own output). */
export function reportMeasure(measure: Measure): void {
  console.log(`${MEASURE_PREFIX}${JSON.stringify(measure)}`);
}

/** Sorted copy, and the value at percentile p (nearest rank). */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** "median 380 ms (min 350, max 420, n=7)" for repeated timings in milliseconds. */
export function medianSpread(ms: readonly number[]): string {
  return `median ${formatMs(percentile(ms, 50))} (min ${formatMs(Math.min(...ms))}, max ${formatMs(Math.max(...ms))}, n=${ms.length})`;
}

/** 12.3 ms, 380 ms, 1.52 s. */
export function formatMs(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toFixed(2)} s`;
  return ms >= 100 ? `${ms.toFixed(0)} ms` : `${ms.toFixed(1)} ms`;
}

/** The 1-minute load average, e.g. "load 1.2": how busy the machine was when a figure was taken. */
export function machineLoad(): string {
  return `load ${loadavg()[0]!.toFixed(1)}`;
}
