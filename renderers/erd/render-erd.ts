/**
 * SchemaSnapshot → ER diagram: the mermaid text always, and a PNG when a browser is available. A missing or
 * broken browser never fails the request: the caller gets the text and a RenderError to show.
 */
import type { SchemaSnapshot } from '../../core/db/database-dialect.ts';
import { RenderError } from '../../core/errors.ts';
import { schemaToMermaid, type ErdOptions, type ErdText } from './erd-mermaid.ts';
import type { MermaidBrowser, MermaidPng } from './mermaid-browser.ts';

export interface ErdImage extends ErdText {
  /** Present when the PNG was drawn. */
  image?: MermaidPng;
  /** Why there is no PNG (code `browser_unavailable` or `render_failed`); the mermaid text is still valid. */
  error?: RenderError;
}

export interface RenderErdOptions extends ErdOptions {
  /** The warm browser; without one only the mermaid text is returned (with a browser_unavailable error). */
  browser?: MermaidBrowser;
}

/** Builds the mermaid text for a snapshot and draws it as a PNG when a browser is available. */
export async function renderErd(snapshot: SchemaSnapshot, options: RenderErdOptions = {}): Promise<ErdImage> {
  const text = schemaToMermaid(snapshot, options);
  if (!options.browser) {
    return {
      ...text,
      error: new RenderError(
        'browser_unavailable',
        'ER-diagram images need a browser, and none is configured.',
        {
          hint: 'The diagram is included as mermaid text; paste it into any mermaid viewer.',
        },
      ),
    };
  }
  try {
    return { ...text, image: await options.browser.render(text.mermaid) };
  } catch (error) {
    const renderError =
      error instanceof RenderError
        ? error
        : new RenderError('render_failed', 'Could not draw the ER diagram.', { cause: error });
    return { ...text, error: renderError };
  }
}
