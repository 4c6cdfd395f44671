/** Result of expanding `${VAR}` references: the expanded value and one message per missing variable. */
export interface Expansion {
  value: unknown;
  problems: string[];
}

const REF = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

function pathText(path: (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

/**
 * Replaces `${VAR}` and `${VAR:-default}` in every string of a parsed YAML tree. `$${` escapes a literal `${`.
 * Missing variables are reported by path and name; their would-be values are never echoed.
 */
export function expandEnvRefs(tree: unknown, env: Readonly<Record<string, string | undefined>>): Expansion {
  const problems: string[] = [];
  const walk = (node: unknown, path: (string | number)[]): unknown => {
    if (typeof node === 'string') {
      const escaped = node.split('$${');
      return escaped
        .map((part) =>
          part.replace(REF, (_all, name: string, fallback: string | undefined) => {
            const value = env[name];
            if (value !== undefined && value !== '') return value;
            if (fallback !== undefined) return fallback;
            problems.push(`${pathText(path) || '(root)'}: environment variable ${name} is not set`);
            return '';
          }),
        )
        .join('${');
    }
    if (Array.isArray(node)) return node.map((item, i) => walk(item, [...path, i]));
    if (node && typeof node === 'object') {
      return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, walk(v, [...path, k])]));
    }
    return node;
  };
  return { value: walk(tree, []), problems };
}
