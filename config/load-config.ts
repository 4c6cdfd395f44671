import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { ConfigError } from '../core/errors.ts';
import { configFileSchema, type ConfigFile } from './config-file.ts';
import { loadEnv, rawEnvironment, type Env } from './env.ts';
import { expandEnvRefs } from './expand-env-refs.ts';
import { formatIssues } from './format-issues.ts';

export interface ThreadqlConfig {
  env: Env;
  file: ConfigFile;
  /** Path of the config file, or undefined when none exists and defaults apply. */
  filePath: string | undefined;
}

/** Parses and validates threadql.yml text; `${VAR}` references expand from `env`. */
export function parseConfigText(
  text: string,
  env: Readonly<Record<string, string | undefined>>,
  source = 'threadql.yml',
): ConfigFile {
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length) {
    throw new ConfigError(doc.errors.map((e) => `${source}: ${e.message.split('\n')[0]}`));
  }
  const expanded = expandEnvRefs(doc.toJS() ?? {}, env);
  const parsed = configFileSchema.safeParse(expanded.value);
  const problems = [...expanded.problems, ...(parsed.success ? [] : formatIssues(parsed.error.issues))];
  if (problems.length || !parsed.success) throw new ConfigError(problems.map((p) => `${source}: ${p}`));
  return parsed.data;
}

/** Loads env and threadql.yml (THREADQL_CONFIG, default ./threadql.yml); a missing default file means defaults. */
export async function loadConfig(source: NodeJS.ProcessEnv = rawEnvironment()): Promise<ThreadqlConfig> {
  const env = loadEnv(source);
  let text: string | undefined;
  try {
    text = await readFile(env.THREADQL_CONFIG, 'utf8');
  } catch (error) {
    const explicit = source.THREADQL_CONFIG !== undefined && source.THREADQL_CONFIG !== '';
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT' || explicit) {
      throw new ConfigError([
        `THREADQL_CONFIG: cannot read ${env.THREADQL_CONFIG} (${(error as NodeJS.ErrnoException).code})`,
      ]);
    }
  }
  if (text === undefined) return { env, file: configFileSchema.parse({}), filePath: undefined };
  return { env, file: parseConfigText(text, source, env.THREADQL_CONFIG), filePath: env.THREADQL_CONFIG };
}
