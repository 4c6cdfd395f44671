/**
 * Claude's proposal, when a query is saved as a template, of which literals should become parameters
 * (`'Germany'` → `:country`, text, default Germany). The proposal is only shown on the save card for the user to
 * confirm, and only after it is proven to change nothing but literals: putting each parameter's original literal
 * back where its placeholders are must give the saved query again (SQL up to whitespace; MongoDB as a document).
 */
import { isDeepStrictEqual } from 'node:util';
import { z } from 'zod';
import type { DatabaseType } from '../../config/config-file.ts';
import type { LlmClient, LlmTool } from '../llm/llm-client.ts';
import type { Logger } from '../logger.ts';
import { isPlainObject, readExtendedJson } from '../safety/mongo-query.ts';
import { substituteMongoPlaceholders } from './mongo-placeholders.ts';
import {
  coerceParameterValue,
  PARAMETER_TYPES,
  type ParameterDefinition,
  type ParameterValue,
} from './parameter-values.ts';
import { findSqlPlaceholders } from './sql-placeholders.ts';
import { templatePlaceholders } from './bind-template.ts';

export const PROPOSE_TOOL = 'propose_parameters';

/** A proposal that passed verification: the query with placeholders and the parameters, defaults from the literals. */
export interface ParameterProposal {
  sql: string;
  parameters: ParameterDefinition[];
}

export interface ProposalInput {
  databaseType: DatabaseType;
  sql: string;
  question: string;
}

/** Proposes parameters for a query's literals; undefined when there is nothing worth proposing. */
export interface ParameterProposer {
  propose(input: ProposalInput): Promise<ParameterProposal | undefined>;
}

const toolInput = z.object({
  sql: z.string().min(1),
  parameters: z
    .array(
      z.object({
        name: z.string().regex(/^[A-Za-z_]\w{0,62}$/),
        type: z.enum(PARAMETER_TYPES),
        literal: z.string().min(1),
        description: z.string().max(500).optional(),
      }),
    )
    .max(20),
});

type ToolInput = z.infer<typeof toolInput>;

const TOOL: LlmTool = {
  name: PROPOSE_TOOL,
  description:
    'Propose named parameters for the literal values of a saved query. Return the query with each chosen literal replaced by :name, and for each parameter its name, type and the exact literal text it replaced.',
  inputSchema: {
    type: 'object',
    properties: {
      sql: {
        type: 'string',
        description:
          'The query, unchanged except that chosen literals are replaced by :name placeholders (for MongoDB: a JSON string value ":name").',
      },
      parameters: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            name: { type: 'string', description: 'snake_case name, e.g. country, since, min_total' },
            type: { type: 'string', enum: [...PARAMETER_TYPES] },
            literal: {
              type: 'string',
              description:
                "The literal exactly as written in the query, quotes included, e.g. 'Germany' or 10",
            },
            description: { type: 'string' },
          },
          required: ['name', 'type', 'literal'],
        },
      },
    },
    required: ['sql', 'parameters'],
  },
};

const SYSTEM =
  'You help save database queries as reusable templates. Given a query, pick the literal values a person would ' +
  'want to change between runs (countries, dates, thresholds, statuses, limits) and turn each into a named ' +
  'parameter. Never change anything else in the query: not identifiers, not operators, not structure, not ' +
  'whitespace outside the replaced literals. Types: text, number, date (ISO dates like 2026-01-31), boolean. ' +
  'Call the propose_parameters tool once. If no literal is worth a parameter, call it with an empty list and the ' +
  'query unchanged.';

export class LlmParameterProposer implements ParameterProposer {
  readonly #llm: LlmClient;
  readonly #logger: Logger | undefined;

  constructor(llm: LlmClient, options: { logger?: Logger } = {}) {
    this.#llm = llm;
    this.#logger = options.logger;
  }

  async propose(input: ProposalInput): Promise<ParameterProposal | undefined> {
    const language =
      input.databaseType === 'mongodb' ? 'MongoDB query (Extended JSON)' : `${input.databaseType} SQL`;
    const response = await this.#llm.createMessage({
      system: [{ type: 'text', text: SYSTEM }],
      messages: [
        {
          role: 'user',
          content: `The question was: ${input.question || '(none)'}\n\nThe ${language} to save:\n${input.sql}`,
        },
      ],
      tools: [TOOL],
      toolChoice: 'auto',
      maxTokens: 2000,
    });
    const call = response.content.find((b) => b.type === 'tool_use' && b.name === PROPOSE_TOOL);
    if (!call || call.type !== 'tool_use') return undefined;
    const parsed = toolInput.safeParse(call.input);
    if (!parsed.success) {
      this.#logger?.warn(
        { issues: parsed.error.issues.length },
        'parameter proposal had the wrong shape; ignored',
      );
      return undefined;
    }
    const checked = await verifyProposal(input.databaseType, input.sql, parsed.data);
    if (!checked.ok) this.#logger?.warn({ reason: checked.reason }, 'parameter proposal refused');
    return checked.ok && checked.proposal.parameters.length ? checked.proposal : undefined;
  }
}

/** The typed default a literal stands for, or a problem. */
function literalValue(
  type: ParameterDefinition['type'],
  literal: string,
  mongo: boolean,
): ParameterValue | undefined {
  let raw: unknown = literal.trim();
  if (mongo) {
    try {
      raw = JSON.parse(literal);
    } catch {
      return undefined;
    }
  } else if (/^[EeNn]?'.*'$/s.test(literal.trim())) {
    raw = literal
      .trim()
      .replace(/^[EeNn]?'/, '')
      .slice(0, -1)
      .replace(/''/g, "'");
  }
  const result = coerceParameterValue('literal', type, raw);
  return 'value' in result ? result.value : undefined;
}

/**
 * Checks a proposal against the original query: placeholders found by the dialect's parser, every one defined,
 * every literal typed, and the literals put back giving the original. Returns the verified proposal or why not.
 */
export async function verifyProposal(
  databaseType: DatabaseType,
  original: string,
  input: ToolInput,
): Promise<{ ok: true; proposal: ParameterProposal } | { ok: false; reason: string }> {
  const mongo = databaseType === 'mongodb';
  const byName = new Map(input.parameters.map((p) => [p.name.toLowerCase(), p]));
  if (byName.size !== input.parameters.length) return { ok: false, reason: 'a parameter name is used twice' };
  let used: string[];
  try {
    used = await templatePlaceholders(databaseType, input.sql);
  } catch (error) {
    return { ok: false, reason: `the proposed query does not parse: ${(error as Error).message}` };
  }
  if (used.some((n) => !byName.has(n)) || [...byName.keys()].some((n) => !used.includes(n))) {
    return { ok: false, reason: 'placeholders and parameters do not match' };
  }
  const parameters: ParameterDefinition[] = [];
  for (const p of input.parameters) {
    const value = literalValue(p.type, p.literal, mongo);
    if (value === undefined || value === null)
      return { ok: false, reason: `${p.literal} is not a ${p.type}` };
    parameters.push({
      name: p.name.toLowerCase(),
      type: p.type,
      default: value,
      required: false,
      ...(p.description ? { description: p.description } : {}),
    });
  }
  if (mongo) {
    let before: unknown;
    let after: unknown;
    try {
      before = readExtendedJson(original);
      const literals = Object.fromEntries(
        input.parameters.map((p) => [p.name, JSON.parse(p.literal) as unknown]),
      );
      after = substituteMongoPlaceholders(readExtendedJson(input.sql), literals);
    } catch (error) {
      return { ok: false, reason: (error as Error).message };
    }
    if (!isPlainObject(before) || !isDeepStrictEqual(before, after)) {
      return { ok: false, reason: 'the proposal changes more than literal values' };
    }
    return { ok: true, proposal: { sql: input.sql, parameters } };
  }
  const placeholders = await findSqlPlaceholders(databaseType, input.sql);
  let rebuilt = '';
  let at = 0;
  for (const p of placeholders) {
    rebuilt += input.sql.slice(at, p.start) + byName.get(p.name)!.literal;
    at = p.end;
  }
  rebuilt += input.sql.slice(at);
  const squash = (s: string) => s.replace(/\s+/g, ' ').trim();
  if (squash(rebuilt) !== squash(original)) {
    return { ok: false, reason: 'the proposal changes more than literal values' };
  }
  return { ok: true, proposal: { sql: input.sql, parameters } };
}
