/**
 * One headless Chromium with one page that has mermaid loaded once, kept warm for ER-diagram PNGs.
 * mermaid-cli's renderMermaid opens a page and reloads mermaid on every call (~1.3 s); this keeps the page, and a
 * render is one evaluate call. Layouts run one at a time (one page; the machine has two cores). Labels are SVG
 * text (`htmlLabels: false`): mermaid measures each label while laying out, and SVG text measures faster than
 * HTML in <foreignObject>; it also lets resvg draw the SVG (mermaid-png.ts), so the page only lays out and the
 * PNG is rasterised off the page while it lays out the next diagram.
 * Start it once, inject it where ERDs are drawn, close it once.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer';
import { RenderError } from '../../core/errors.ts';
import { FONT_FILES, SANS_FAMILY } from '../png/font-files.ts';
import { mermaidSvgToPng, type DiagramPng, type PixelPolicy } from './mermaid-png.ts';

export interface MermaidBrowserOptions extends PixelPolicy {
  /** Chromium binary (from PUPPETEER_EXECUTABLE_PATH via config); none means no browser is available. */
  executablePath?: string;
  /** Parent folder of the throwaway user-data-dir; default the OS temp folder. */
  tmpDir?: string;
  launchTimeoutMs?: number;
  renderTimeoutMs?: number;
}

/** The PNG and its SVG (for reading its labels; not sanitised for embedding in a web page, see securityLevel). */
export interface MermaidPng extends DiagramPng {
  /** Milliseconds spent in mermaid's layout in the page and in the raster (for benches and logs). */
  timings: { layoutMs: number; rasterMs: number };
}

const LAUNCH_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--headless',
  '--disable-dev-shm-usage',
  '--hide-scrollbars',
  '--mute-audio',
];

function mermaidBundlePath(): string {
  return join(dirname(fileURLToPath(import.meta.resolve('mermaid'))), 'mermaid.min.js');
}

/** Base64 @font-face rules for the shipped fonts, so diagrams look the same on every machine. */
async function fontFaceCss(): Promise<string> {
  const face = async (file: string, weight: number) =>
    `@font-face{font-family:'${SANS_FAMILY}';font-weight:${weight};src:url(data:font/ttf;base64,${(await readFile(file)).toString('base64')}) format('truetype');}`;
  return (await face(FONT_FILES.sans, 400)) + (await face(FONT_FILES.sansBold, 700));
}

/** Mermaid settings: no max-width (large diagrams would shrink to thumbnails), the shipped font, a calm theme. */
export const MERMAID_CONFIG = {
  startOnLoad: false,
  // 'strict' runs the finished SVG through DOMPurify (~35 ms of a 10-table layout) so that a page embedding it
  // runs no script; nothing embeds this SVG, resvg rasterises it (mermaid-png.ts). Label text is sanitised at
  // every level and, as SVG labels, set as text, never markup; beyond that 'loose' only enables click handlers
  // and links, which erDiagram has no syntax for. The PNGs are identical.
  securityLevel: 'loose',
  theme: 'base',
  fontFamily: SANS_FAMILY,
  // SVG text labels: measured faster to lay out than HTML labels in <foreignObject>, and the same to read.
  htmlLabels: false,
  maxTextSize: 2_000_000,
  maxEdges: 5000,
  themeVariables: {
    fontFamily: SANS_FAMILY,
    fontSize: '13px',
    primaryColor: '#eef3fa',
    primaryBorderColor: '#4c78a8',
    primaryTextColor: '#1f2328',
    lineColor: '#6e7781',
    tertiaryColor: '#ffffff',
    attributeBackgroundColorOdd: '#ffffff',
    attributeBackgroundColorEven: '#f6f8fa',
    // Behind relationship labels (SVG labels draw this box; HTML labels showed white).
    edgeLabelBackground: '#ffffff',
    // Solid entity borders: the default fades the right edge to grey, which left boxes without a right edge
    // once the drop shadow was gone (resvg does not draw CSS filter functions).
    useGradient: false,
  },
  er: {
    useMaxWidth: false,
    layoutDirection: 'TB',
    minEntityWidth: 100,
    entityPadding: 6,
    diagramPadding: 8,
    nodeSpacing: 50,
    rankSpacing: 60,
  },
} as const;

/** Runs jobs one at a time, in the order they came. */
class Serial {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(job: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(job, job);
    this.#tail = run.catch(() => undefined);
    return run;
  }

  /** Settles when every job so far has. */
  get drained(): Promise<unknown> {
    return this.#tail;
  }
}

/** What the in-page functions use of the page's window (the project compiles without DOM types). */
interface PageWindow {
  document: {
    getElementById(id: string): { remove(): void } | null;
    fonts: { load(font: string): Promise<unknown>; ready: Promise<unknown> };
  };
  mermaid: { initialize(config: unknown): void; render(id: string, text: string): Promise<{ svg: string }> };
}
type Drawn = { error: string } | { svg: string };

/** The warm browser for mermaid PNGs; see the file comment. */
export class MermaidBrowser {
  readonly #options: MermaidBrowserOptions;
  #browser: Browser | undefined;
  #page: Page | undefined;
  #userDataDir: string | undefined;
  #starting: Promise<void> | undefined;
  readonly #layouts = new Serial();
  readonly #rasters = new Serial();
  #renders = 0;
  #closed = false;

  constructor(options: MermaidBrowserOptions = {}) {
    this.#options = options;
  }

  /** True while a browser and its page are up. */
  get started(): boolean {
    return this.#page !== undefined && this.#browser?.connected === true;
  }

  /** Launches Chromium and loads mermaid into a page; throws RenderError(browser_unavailable) when it cannot. */
  async start(): Promise<void> {
    this.#closed = false;
    if (this.started) return;
    this.#starting ??= this.#launch().finally(() => {
      this.#starting = undefined;
    });
    return this.#starting;
  }

  async #launch(): Promise<void> {
    const executablePath = this.#options.executablePath;
    if (!executablePath) {
      throw unavailable(
        'no Chromium path is configured (set PUPPETEER_EXECUTABLE_PATH to the chromium binary)',
      );
    }
    await this.#teardown();
    this.#userDataDir = await mkdtemp(join(this.#options.tmpDir ?? tmpdir(), 'threadql-chromium-'));
    try {
      this.#browser = await puppeteer.launch({
        executablePath,
        headless: true,
        args: [...LAUNCH_FLAGS, `--user-data-dir=${this.#userDataDir}`],
        timeout: this.#options.launchTimeoutMs ?? 30_000,
        handleSIGINT: false,
        handleSIGTERM: false,
        handleSIGHUP: false,
      });
      this.#browser.on('disconnected', () => {
        this.#page = undefined;
      });
      const page = await this.#browser.newPage();
      await page.setContent(
        `<!doctype html><html><head><style>${await fontFaceCss()}body{margin:0}</style></head><body></body></html>`,
      );
      await page.addScriptTag({ path: mermaidBundlePath() });
      await page.evaluate(
        async (config) => {
          const w = globalThis as unknown as PageWindow;
          // @font-face fonts load lazily: load them before the first layout measures any text.
          await Promise.all([
            w.document.fonts.load(`14px '${config.fontFamily}'`),
            w.document.fonts.load(`bold 14px '${config.fontFamily}'`),
          ]);
          await w.document.fonts.ready;
          w.mermaid.initialize(config);
        },
        MERMAID_CONFIG as unknown as Record<string, unknown> & { fontFamily: string },
      );
      // The page needs nothing from the network once mermaid and the fonts are in: offline, a label that ever got
      // past mermaid's sanitising (securityLevel 'loose', see MERMAID_CONFIG) could not reach anything either.
      await page.setOfflineMode(true);
      this.#page = page;
    } catch (cause) {
      await this.#teardown();
      if (cause instanceof RenderError) throw cause;
      throw unavailable(
        cause instanceof Error ? cause.message.split('\n')[0]! : 'the browser did not start',
        cause,
      );
    }
  }

  /**
   * Renders mermaid text to SVG and a PNG. Layouts queue for the one page (starting or restarting the browser
   * when needed); rasters queue separately, so one diagram rasterises while the page lays out the next.
   */
  async render(definition: string): Promise<MermaidPng> {
    const { svg, layoutMs } = await this.#layouts.run(() => this.#layout(definition));
    return this.#rasters.run(async () => {
      const started = performance.now();
      const image = await mermaidSvgToPng(svg, this.#options);
      return { ...image, timings: { layoutMs, rasterMs: performance.now() - started } };
    });
  }

  /** mermaid's layout in the page: the SVG as mermaid serialises it, and the milliseconds it took. */
  async #layout(definition: string): Promise<{ svg: string; layoutMs: number }> {
    if (this.#closed) throw new RenderError('render_failed', 'The diagram renderer has been closed.');
    if (!this.started) await this.start();
    const page = this.#page!;
    const id = `erd${++this.#renders}`;
    const timeoutMs = this.#options.renderTimeoutMs ?? 60_000;
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        reject(new RenderError('render_failed', 'Drawing the diagram took too long.'));
      }, timeoutMs);
    });
    const started = performance.now();
    try {
      const drawn = await Promise.race([
        page.evaluate(
          async (id: string, text: string): Promise<Drawn> => {
            const w = globalThis as unknown as PageWindow;
            try {
              return { svg: (await w.mermaid.render(id, text)).svg };
            } catch (error) {
              // mermaid leaves its scratch element behind after a parse error.
              w.document.getElementById(`d${id}`)?.remove();
              return { error: error instanceof Error ? error.message : String(error) };
            }
          },
          id,
          definition,
        ),
        timeout,
      ]);
      if ('error' in drawn) {
        throw new RenderError(
          'render_failed',
          `The diagram text is not valid mermaid: ${drawn.error.split('\n')[0]}`,
        );
      }
      return { svg: drawn.svg, layoutMs: performance.now() - started };
    } catch (cause) {
      if (cause instanceof RenderError && !timedOut) throw cause;
      // A hung or dead page: drop the browser so the next render starts a fresh one.
      await this.#teardown();
      if (cause instanceof RenderError) throw cause;
      throw new RenderError(
        'render_failed',
        'The diagram renderer failed; it will restart on the next diagram.',
        { cause },
      );
    } finally {
      clearTimeout(timer);
    }
  }

  async #teardown(): Promise<void> {
    const browser = this.#browser;
    const dir = this.#userDataDir;
    this.#browser = undefined;
    this.#page = undefined;
    this.#userDataDir = undefined;
    if (browser) await browser.close().catch(() => undefined);
    if (dir) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
  }

  /** Closes the browser and removes its profile folder; waits for queued renders to settle first. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#layouts.drained;
    await this.#rasters.drained;
    await this.#starting?.catch(() => undefined);
    await this.#teardown();
  }
}

function unavailable(why: string, cause?: unknown): RenderError {
  return new RenderError(
    'browser_unavailable',
    `ER-diagram images need a browser, and none is available: ${why}.`,
    {
      cause,
      hint: 'The diagram is included as mermaid text; paste it into any mermaid viewer.',
    },
  );
}
