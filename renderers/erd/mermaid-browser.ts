/**
 * One headless Chromium with one page that has mermaid loaded once, kept warm for ER-diagram PNGs.
 * mermaid-cli's renderMermaid opens a page and reloads mermaid on every call (~1.3 s); this keeps the page.
 * Renders run one at a time (one page; the machine has two cores). Labels are SVG text (`htmlLabels: false`):
 * mermaid measures each label while laying out, and SVG text measures faster than HTML in <foreignObject>
 * (bench/render.bench.ts). The PNG is a Chromium screenshot: resvg could draw the SVG-label page too, but measured
 * slower than the screenshot for text-heavy diagrams. Large diagrams get a smaller pixel density (never below 1×)
 * to stay within a pixel budget, since the screenshot's cost grows with its pixels.
 * Start it once, inject it where ERDs are drawn, close it once.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer';
import { RenderError } from '../../core/errors.ts';
import { FONT_FILES, SANS_FAMILY } from '../png/font-files.ts';

export interface MermaidBrowserOptions {
  /** Chromium binary (from PUPPETEER_EXECUTABLE_PATH via config); none means no browser is available. */
  executablePath?: string;
  /** Pixel density of PNGs; lowered for large diagrams (see pixelBudget and maxPixels). Default 2. */
  scale?: number;
  /**
   * Pixels (width × height) above which the density is lowered, but not below 1× (a diagram at 1× is as
   * readable as in a browser at 100 %). Default 10 million: a 30-table diagram comes out at about 1.5×.
   */
  pixelBudget?: number;
  /** Largest PNG in pixels (width × height), below 1× if need be. Default 36 million. */
  maxPixels?: number;
  /** Longest PNG side in pixels. Default 16,000 (Chromium's screenshot limit is about 16,384). */
  maxSide?: number;
  /** Parent folder of the throwaway user-data-dir; default the OS temp folder. */
  tmpDir?: string;
  launchTimeoutMs?: number;
  renderTimeoutMs?: number;
}

export interface MermaidPng {
  png: Buffer;
  svg: string;
  /** PNG size in pixels. */
  width: number;
  height: number;
  /** Device scale factor used (PNG pixels per SVG pixel). */
  scale: number;
  /** Milliseconds spent in mermaid's layout and in the screenshot (for benches and logs). */
  timings: { layoutMs: number; screenshotMs: number };
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

const MARGIN = 24;

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
  securityLevel: 'strict',
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

type Job<T> = () => Promise<T>;

/** What the in-page functions use of the page's window (the project compiles without DOM types). */
interface PageElement {
  innerHTML: string;
  remove(): void;
  getBoundingClientRect(): { width: number; height: number };
  querySelector(selector: string): PageElement | null;
}
interface PageWindow {
  document: {
    getElementById(id: string): PageElement | null;
    fonts: { load(font: string): Promise<unknown>; ready: Promise<unknown> };
  };
  XMLSerializer: new () => { serializeToString(node: PageElement): string };
  mermaid: { initialize(config: unknown): void; render(id: string, text: string): Promise<{ svg: string }> };
}
type Drawn = { error: string } | { svg: string; width: number; height: number };

/** The warm browser for mermaid PNGs; see the file comment. */
export class MermaidBrowser {
  readonly #options: MermaidBrowserOptions;
  #browser: Browser | undefined;
  #page: Page | undefined;
  #userDataDir: string | undefined;
  #starting: Promise<void> | undefined;
  #queue: Promise<unknown> = Promise.resolve();
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
      await page.setContent(`<!doctype html><html><head><style>${await fontFaceCss()}
        body{margin:0;background:#fff}#c{display:inline-block;padding:${MARGIN}px}</style></head><body><div id="c"></div></body></html>`);
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

  /** Renders mermaid text to SVG and a PNG; queued, one at a time. Starts (or restarts) the browser when needed. */
  render(definition: string): Promise<MermaidPng> {
    return this.#enqueue(() => this.#render(definition));
  }

  #enqueue<T>(job: Job<T>): Promise<T> {
    const run = this.#queue.then(job, job);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #render(definition: string): Promise<MermaidPng> {
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
            const container = w.document.getElementById('c')!;
            container.innerHTML = '';
            try {
              const { svg } = await w.mermaid.render(id, text);
              container.innerHTML = svg;
            } catch (error) {
              // mermaid leaves its scratch element behind after a parse error.
              w.document.getElementById(`d${id}`)?.remove();
              return { error: error instanceof Error ? error.message : String(error) };
            }
            const box = container.getBoundingClientRect();
            return {
              svg: new w.XMLSerializer().serializeToString(container.querySelector('svg')!),
              width: Math.ceil(box.width),
              height: Math.ceil(box.height),
            };
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
      const laidOut = performance.now();
      const scale = this.#scaleFor(drawn.width, drawn.height);
      await page.setViewport({ width: drawn.width, height: drawn.height, deviceScaleFactor: scale });
      const png = Buffer.from(
        await Promise.race([
          page.screenshot({
            type: 'png',
            optimizeForSpeed: true,
            clip: { x: 0, y: 0, width: drawn.width, height: drawn.height },
          }),
          timeout,
        ]),
      );
      return {
        png,
        svg: drawn.svg,
        width: Math.round(drawn.width * scale),
        height: Math.round(drawn.height * scale),
        scale,
        timings: { layoutMs: laidOut - started, screenshotMs: performance.now() - laidOut },
      };
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

  /** The largest scale ≤ the configured one within the pixel budget (not below 1×) and the hard caps. */
  #scaleFor(width: number, height: number): number {
    const wanted = this.#options.scale ?? 2;
    const area = width * height;
    const budget = Math.max(Math.min(1, wanted), Math.sqrt((this.#options.pixelBudget ?? 10_000_000) / area));
    const maxPixels = this.#options.maxPixels ?? 36_000_000;
    const maxSide = this.#options.maxSide ?? 16_000;
    const fit = Math.min(wanted, budget, Math.sqrt(maxPixels / area), maxSide / width, maxSide / height);
    return Math.max(0.25, Math.floor(fit * 100) / 100);
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
    await this.#queue;
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
