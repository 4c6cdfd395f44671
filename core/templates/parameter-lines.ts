/**
 * Parameter definitions as lines people can read and edit in a modal, one per parameter:
 *   country text = Germany
 *   since date required
 *   limit number = 10
 * Order: name, type, then `= <default>` (optional) and `required` or `optional`.
 */
import { ValidationError } from '../errors.ts';
import {
  coerceParameterValue,
  isParameterType,
  PARAMETER_TYPES,
  type ParameterDefinition,
  type ParameterType,
} from './parameter-values.ts';

/** One line per parameter. */
export function formatParameterLines(parameters: readonly ParameterDefinition[]): string {
  return parameters
    .map((p) => {
      const dflt = p.default === undefined || p.default === null ? '' : ` = ${String(p.default)}`;
      // Without a default a parameter reads as required, so an optional one says so.
      const flag = p.required ? ' required' : dflt ? '' : ' optional';
      return `${p.name} ${p.type}${dflt}${flag}`;
    })
    .join('\n');
}

/** Parses the lines back; every problem is reported at once, by line. */
export function parseParameterLines(text: string): ParameterDefinition[] {
  const problems: string[] = [];
  const parameters: ParameterDefinition[] = [];
  text
    .split('\n')
    .map((l) => l.trim())
    .forEach((line, index) => {
      if (!line || line.startsWith('#')) return;
      const m = /^([A-Za-z_]\w{0,62})\s+(\w+)(?:\s*=\s*(.*?))?(?:\s+(required|optional))?$/i.exec(line);
      if (!m) {
        problems.push(`line ${index + 1}: expected \`name type [= default] [required]\`, got "${line}"`);
        return;
      }
      const type = m[2]!.toLowerCase();
      if (!isParameterType(type)) {
        problems.push(`line ${index + 1}: "${m[2]}" is not a type (${PARAMETER_TYPES.join(', ')})`);
        return;
      }
      const raw = m[3]?.trim().replace(/^["'“‘](.*)["'”’]$/, '$1');
      let value: ParameterDefinition['default'];
      if (raw !== undefined && raw !== '') {
        const coerced = coerceParameterValue(m[1]!, type as ParameterType, raw);
        if ('problem' in coerced) problems.push(`line ${index + 1}: ${coerced.problem}`);
        else value = coerced.value;
      }
      parameters.push({
        name: m[1]!.toLowerCase(),
        type: type as ParameterType,
        ...(value !== undefined ? { default: value } : {}),
        required:
          m[4]?.toLowerCase() === 'required' || (value === undefined && m[4]?.toLowerCase() !== 'optional'),
      });
    });
  if (problems.length)
    throw new ValidationError(`The parameters do not read right:\n• ${problems.join('\n• ')}`);
  return parameters;
}

/** A first guess at a placeholder's type from its name (the save card shows it, and the user can change it). */
export function guessParameterType(name: string): ParameterType {
  const n = name.toLowerCase();
  if (/(^|_)(date|day|since|until|from|to|start|end|before|after)($|_)|_(at|on)$/.test(n)) return 'date';
  if (/^(is|has|include|only)_|(^|_)(active|enabled|flag)$/.test(n)) return 'boolean';
  if (
    /(^|_)(n|limit|count|top|min|max|amount|threshold|days|weeks|months|years|size|age|year|id)($|_)/.test(n)
  )
    return 'number';
  return 'text';
}
