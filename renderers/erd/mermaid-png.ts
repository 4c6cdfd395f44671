/**
 * A mermaid SVG, as laid out in the browser page, → PNG with resvg (renderers/png). With SVG text labels
 * (`htmlLabels: false`) the SVG has everything resvg needs, and rasterising it on libuv's pool measured faster
 * than a Chromium screenshot (10 tables at 2×: ~130 ms against ~200 ms, plus ~20 ms to insert the SVG into the
 * page and a viewport change; bench/render.bench.ts), and the page is free for the next layout meanwhile.
 * The image gets a white margin, and the pixel density a chat client's viewer can show (pickScale): up to 2× for
 * small diagrams, less for large ones (never below 1×), since the raster's cost grows with its pixels.
 */
import { RenderError } from '../../core/errors.ts';
import { svgToPng } from '../png/svg-to-png.ts';

export interface PixelPolicy {
  /** Highest pixel density (PNG pixels per SVG pixel). Default 2: crisp on high-DPI screens. */
  scale?: number;
  /**
   * The most device pixels a chat client's image viewer shows an image with: fitted to the screen, default a 4K
   * one (3,840 × 2,160); thread previews are far smaller. Density beyond what fits there is only seen zoomed in
   * past the fit, so tall or wide diagrams get less, but never below 1× (text as large as a web page's at 100 %).
   */
  viewer?: { width: number; height: number };
  /** Largest PNG in pixels (width × height), below 1× if need be. Default 36 million. */
  maxPixels?: number;
  /** Longest PNG side in pixels. Default 16,000. */
  maxSide?: number;
}

export interface DiagramPng {
  png: Buffer;
  /** The SVG the PNG was drawn from: mermaid's, as XML, with the margin. */
  svg: string;
  /** PNG size in pixels. */
  width: number;
  height: number;
  /** PNG pixels per SVG pixel. */
  scale: number;
}

/** White space around the diagram, in SVG pixels (what the page's padding gave the screenshots). */
export const MARGIN = 24;

const ROOT = /^\s*<svg\b[^>]*>/;
/** Characters XML 1.0 forbids, even as references. */
// eslint-disable-next-line no-control-regex
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

/** A number attribute of the root <svg> tag. */
function rootNumbers(tag: string, name: string): number[] | undefined {
  const value = new RegExp(`\\s${name}="([^"]*)"`).exec(tag)?.[1];
  const numbers = value
    ?.trim()
    .split(/[\s,]+/)
    .map(Number);
  return numbers?.every(Number.isFinite) ? numbers : undefined;
}

/**
 * The SVG with `margin` SVG pixels of room on every side (its root width, height and viewBox widened), and its
 * new size. mermaid sets all three on the root element.
 */
export function withMargin(svg: string, margin: number): { svg: string; width: number; height: number } {
  const tag = ROOT.exec(svg)?.[0] ?? '';
  const [width] = rootNumbers(tag, 'width') ?? [];
  const [height] = rootNumbers(tag, 'height') ?? [];
  const box = rootNumbers(tag, 'viewBox');
  if (!width || !height || box?.length !== 4) {
    throw new RenderError('render_failed', 'The diagram came back without a size.');
  }
  const [x, y, w, h] = box as [number, number, number, number];
  const framed = {
    width: width + 2 * margin,
    height: height + 2 * margin,
    // The viewBox grows by the margin in its own units, so the drawing keeps its size.
    box: [
      x - (margin * w) / width,
      y - (margin * h) / height,
      w + (2 * margin * w) / width,
      h + (2 * margin * h) / height,
    ],
  };
  const newTag = tag
    .replace(/\swidth="[^"]*"/, ` width="${framed.width}"`)
    .replace(/\sheight="[^"]*"/, ` height="${framed.height}"`)
    .replace(/\sviewBox="[^"]*"/, ` viewBox="${framed.box.join(' ')}"`);
  return { svg: newTag + svg.slice(tag.length), width: framed.width, height: framed.height };
}

/**
 * The page serialises the SVG as HTML (innerHTML), which is XML except for `&nbsp;` and control characters an
 * identifier may carry; resvg parses XML, so those become the character itself (a reference would make
 * rasterFontFiles pick the full fonts) and nothing.
 */
export function htmlSvgToXml(svg: string): string {
  return svg.replace(/&nbsp;/g, '\u00a0').replace(NOT_XML, '');
}

/** The density for an SVG of this size: what fits the viewer, between 1× and the wanted scale, within the caps. */
export function pickScale(width: number, height: number, policy: PixelPolicy = {}): number {
  const wanted = policy.scale ?? 2;
  const viewer = policy.viewer ?? { width: 3840, height: 2160 };
  const fitsViewer = Math.min(viewer.width / width, viewer.height / height);
  const density = Math.min(wanted, Math.max(Math.min(1, wanted), fitsViewer));
  const area = width * height;
  const maxPixels = policy.maxPixels ?? 36_000_000;
  const maxSide = policy.maxSide ?? 16_000;
  const fit = Math.min(density, Math.sqrt(maxPixels / area), maxSide / width, maxSide / height);
  return Math.max(0.25, Math.floor(fit * 100) / 100);
}

/** Rasterises a mermaid SVG with a white margin at the density the pixel policy allows. */
export async function mermaidSvgToPng(svg: string, policy: PixelPolicy = {}): Promise<DiagramPng> {
  const framed = withMargin(htmlSvgToXml(svg), MARGIN);
  const scale = pickScale(framed.width, framed.height, policy);
  const image = await svgToPng(framed.svg, { scale, background: 'white' });
  return { ...image, svg: framed.svg, scale };
}
