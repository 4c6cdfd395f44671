/**
 * Typed template parameters: what a value of each type looks like, and how a value a person typed (`since=2026-01-31`)
 * becomes a typed value or a message that says exactly what was expected. Pure: no I/O.
 */
import { z } from 'zod';
import { ValidationError } from '../errors.ts';

export const PARAMETER_TYPES = ['text', 'number', 'date', 'boolean'] as const;
export type ParameterType = (typeof PARAMETER_TYPES)[number];

/** A typed value: text and dates are strings (dates as `YYYY-MM-DD`), numbers and booleans their own type. */
export type ParameterValue = string | number | boolean | null;

/** A parameter as a template defines it (the QueryTemplate model stores exactly this). */
export interface ParameterDefinition {
  name: string;
  type: ParameterType;
  /** Used when no value is given; already typed. */
  default?: ParameterValue;
  required: boolean;
  description?: string;
}

const EXAMPLES: Record<ParameterType, string> = {
  text: 'some text',
  number: 'a number like 42 or 3.5',
  date: 'a date like 2026-01-31',
  boolean: 'true or false',
};

const NUMBER = /^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/;
const TRUE = new Set(['true', 'yes', 'y', 'on', '1']);
const FALSE = new Set(['false', 'no', 'n', 'off', '0']);
const isoDate = z.iso.date();

/** True for a parameter type name. */
export function isParameterType(value: string): value is ParameterType {
  return (PARAMETER_TYPES as readonly string[]).includes(value);
}

/** `name: expected …, got "…"`: the one wording for a value of the wrong shape. */
function mismatch(name: string, type: ParameterType, raw: unknown): string {
  return `${name}: expected ${EXAMPLES[type]}, got ${JSON.stringify(raw)}`;
}

/** Turns typed text (or an already-typed value, e.g. a stored default) into a value of `type`; a message when it does not fit. */
export function coerceParameterValue(
  name: string,
  type: ParameterType,
  raw: unknown,
): { value: ParameterValue } | { problem: string } {
  if (raw === null) return { value: null };
  switch (type) {
    case 'text':
      if (typeof raw === 'string') return { value: raw };
      if (typeof raw === 'number' || typeof raw === 'boolean') return { value: String(raw) };
      return { problem: mismatch(name, type, raw) };
    case 'number': {
      if (typeof raw === 'number' && Number.isFinite(raw)) return { value: raw };
      const text = typeof raw === 'string' ? raw.trim().replace(/_/g, '') : '';
      const value = Number(text);
      return NUMBER.test(text) && Number.isFinite(value) ? { value } : { problem: mismatch(name, type, raw) };
    }
    case 'date': {
      const text =
        raw instanceof Date ? raw.toISOString().slice(0, 10) : typeof raw === 'string' ? raw.trim() : '';
      return isoDate.safeParse(text).success ? { value: text } : { problem: mismatch(name, type, raw) };
    }
    case 'boolean': {
      if (typeof raw === 'boolean') return { value: raw };
      const text = typeof raw === 'string' ? raw.trim().toLowerCase() : String(raw);
      if (TRUE.has(text)) return { value: true };
      if (FALSE.has(text)) return { value: false };
      return { problem: mismatch(name, type, raw) };
    }
  }
}

/** One line describing a parameter, e.g. `since (date, default 2024-01-01)` or `country (text, required)`. */
export function describeParameter(p: ParameterDefinition): string {
  const extra =
    p.default !== undefined && p.default !== null
      ? `default ${String(p.default)}`
      : p.required
        ? 'required'
        : 'optional';
  return `${p.name} (${p.type}, ${extra})`;
}

/**
 * The value of every parameter for one run: given values (typed text, keyed by name) over defaults. Unknown names,
 * missing required values and values of the wrong shape are all reported at once, in one ValidationError.
 */
export function resolveParameterValues(
  definitions: readonly ParameterDefinition[],
  given: Readonly<Record<string, unknown>>,
): Record<string, ParameterValue> {
  const problems: string[] = [];
  const byName = new Map(definitions.map((d) => [d.name.toLowerCase(), d]));
  const values: Record<string, ParameterValue> = {};
  const supplied = new Map<string, unknown>();
  for (const [key, raw] of Object.entries(given)) {
    const definition = byName.get(key.toLowerCase());
    if (!definition) {
      const known = definitions.map(describeParameter).join(', ');
      problems.push(
        `${key}: this template has no such parameter (${known ? `it takes ${known}` : 'it takes none'})`,
      );
    } else supplied.set(definition.name, raw);
  }
  for (const definition of definitions) {
    if (supplied.has(definition.name)) {
      const result = coerceParameterValue(definition.name, definition.type, supplied.get(definition.name));
      if ('problem' in result) problems.push(result.problem);
      else values[definition.name] = result.value;
    } else if (definition.default !== undefined && definition.default !== null) {
      values[definition.name] = definition.default;
    } else if (definition.required) {
      problems.push(
        `${definition.name}: a value is required (${EXAMPLES[definition.type]}), e.g. ${definition.name}=${sample(definition.type)}`,
      );
    } else values[definition.name] = null;
  }
  if (problems.length) {
    throw new ValidationError(
      problems.length === 1 ? problems[0]! : `Some parameter values do not fit:\n• ${problems.join('\n• ')}`,
      { detail: { problems } },
    );
  }
  return values;
}

function sample(type: ParameterType): string {
  return { text: 'Germany', number: '10', date: '2026-01-31', boolean: 'true' }[type];
}

/** Checks a set of definitions on their own: names, duplicates, and that each default fits its type. */
export function checkParameterDefinitions(definitions: readonly ParameterDefinition[]): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const d of definitions) {
    if (!/^[A-Za-z_]\w{0,62}$/.test(d.name))
      problems.push(`"${d.name}" is not a parameter name (letters, digits, _)`);
    if (seen.has(d.name.toLowerCase())) problems.push(`parameter "${d.name}" is defined twice`);
    seen.add(d.name.toLowerCase());
    if (!isParameterType(d.type)) {
      problems.push(`${d.name}: unknown type "${String(d.type)}" (expected ${PARAMETER_TYPES.join(', ')})`);
      continue;
    }
    if (d.default !== undefined && d.default !== null) {
      const result = coerceParameterValue(d.name, d.type, d.default);
      if ('problem' in result) problems.push(`default of ${result.problem}`);
    }
  }
  return problems;
}
