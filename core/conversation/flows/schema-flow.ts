/** `schema [table …]`: an ER-diagram PNG of the connection's schema, or of the tables around the named ones. */
import type { CommandArgs } from '../chat-grammar.ts';
import type { Reply } from '../chat-platform.ts';
import type { ConnectionProvider, ResultRenderers } from '../engine-ports.ts';
import type { Flow } from '../flow.ts';
import type { Turn } from '../turn.ts';
import type { Governance } from '../../governance/governance.ts';
import { mayQuery } from './query-gate.ts';

export interface SchemaFlowDeps {
  connections: ConnectionProvider;
  governance: Governance;
  renderers: ResultRenderers;
}

export class SchemaFlow implements Flow {
  private readonly deps: SchemaFlowDeps;

  readonly commands = {
    schema: (turn: Turn, args: CommandArgs['schema']) => this.draw(turn, args.tables),
  };

  constructor(deps: SchemaFlowDeps) {
    this.deps = deps;
  }

  private async draw(turn: Turn, tables: string[]): Promise<void> {
    const input = `schema ${tables.join(' ')}`.trim();
    let connection;
    try {
      const existing = await turn.session();
      connection = await this.deps.connections.resolve(turn.thread, existing?.connectionName);
    } catch (error) {
      await turn.fail(error, { input });
      return;
    }
    if (!(await mayQuery(turn, this.deps.governance, connection.name))) return;
    const progress = await turn.progress('Drawing the schema…');
    try {
      const schema = await this.deps.connections.schema(connection.name);
      const erd = await this.deps.renderers.erd(schema, tables);
      const title = tables.length
        ? `Schema around ${tables.join(', ')} on *${connection.name}*`
        : `Schema of *${connection.name}*`;
      const reply: Reply = erd.png
        ? {
            parts: [
              { type: 'text', text: title },
              {
                type: 'image',
                image: { filename: 'schema.png', mimeType: 'image/png', data: erd.png },
                alt: title,
              },
            ],
            fallback: title,
          }
        : {
            parts: [
              { type: 'text', text: `${title}\n${erd.warning ?? ''}` },
              { type: 'code', code: erd.mermaid, language: 'mermaid' },
            ],
            fallback: title,
          };
      await turn.update(progress, reply);
    } catch (error) {
      await turn.fail(error, { progress, input });
    }
  }
}
