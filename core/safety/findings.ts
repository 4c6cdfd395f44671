import { mostDangerous, type StatementClass, type StatementVerdict } from './verdict.ts';

/**
 * What the classifier learnt about one statement while walking its syntax tree: the class only ever rises
 * (read → write → ddl → other), and every rise carries a reason a person can read on the confirm card.
 */
export class Findings {
  verdict: StatementClass;
  private readonly entries: Array<{ cls: StatementClass; reason: string }> = [];

  constructor(initial: StatementClass, reason: string) {
    this.verdict = initial;
    this.entries.push({ cls: initial, reason });
  }

  /** Raises the class to at least `cls`, recording why (duplicates are dropped). */
  raise(cls: StatementClass, reason: string): void {
    this.verdict = mostDangerous([this.verdict, cls]);
    if (!this.entries.some((e) => e.reason === reason)) this.entries.push({ cls, reason });
  }

  /** Why the statement has its class: the non-read reasons, most dangerous first (or the read reasons for a read). */
  get reasons(): string[] {
    const relevant = this.entries.filter((e) => (this.verdict === 'read' ? true : e.cls !== 'read'));
    return relevant.sort((a, b) => RANK[b.cls] - RANK[a.cls]).map((e) => e.reason);
  }

  /** The statement's verdict for display. */
  toStatement(sql: string, type: string): StatementVerdict {
    return { sql, verdict: this.verdict, type, reasons: this.reasons };
  }
}

const RANK: Record<StatementClass, number> = { read: 0, write: 1, ddl: 2, other: 3 };

/** Calls `visit` for every property of every object reachable from `value` (parsers' JSON syntax trees). */
export function forEachNode(value: unknown, visit: (key: string, node: unknown) => void): void {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const current = stack.pop();
    if (Array.isArray(current)) {
      for (const item of current) stack.push(item);
    } else if (current !== null && typeof current === 'object') {
      for (const [key, child] of Object.entries(current)) {
        visit(key, child);
        if (child !== null && typeof child === 'object') stack.push(child);
      }
    }
  }
}

/** True for a plain object (a syntax tree node), false for arrays, null and scalars. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Calls `visit` for every object (not array) reachable from `value`, the root included. */
export function forEachObject(value: unknown, visit: (node: Record<string, unknown>) => void): void {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const current = stack.pop();
    if (Array.isArray(current)) {
      for (const item of current) stack.push(item);
    } else if (isRecord(current)) {
      visit(current);
      for (const child of Object.values(current))
        if (child !== null && typeof child === 'object') stack.push(child);
    }
  }
}
