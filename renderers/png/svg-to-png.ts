import { renderAsync } from '@resvg/resvg-js';
import { RenderError } from '../../core/errors.ts';
import { FONT_FILES, SANS_FAMILY } from './font-files.ts';

export interface SvgToPngOptions {
  /** Pixel density: 2 gives crisp images on high-DPI screens. */
  scale?: number;
  /** Font files to load; the shipped DejaVu fonts by default. System fonts are never loaded. */
  fontFiles?: string[];
  background?: string;
}

export interface PngImage {
  png: Buffer;
  /** Pixel size of the PNG. */
  width: number;
  height: number;
}

/** Rasterises an SVG with resvg (off the main thread) using only the shipped fonts. */
export async function svgToPng(svg: string, options: SvgToPngOptions = {}): Promise<PngImage> {
  const fontFiles = options.fontFiles ?? [
    FONT_FILES.sans,
    FONT_FILES.sansBold,
    FONT_FILES.mono,
    FONT_FILES.monoBold,
  ];
  try {
    const image = await renderAsync(svg, {
      fitTo: { mode: 'zoom', value: options.scale ?? 2 },
      background: options.background ?? 'white',
      font: {
        fontFiles,
        loadSystemFonts: false,
        defaultFontFamily: SANS_FAMILY,
        sansSerifFamily: SANS_FAMILY,
      },
      logLevel: 'off',
    });
    return { png: image.asPng(), width: image.width, height: image.height };
  } catch (cause) {
    throw new RenderError('render_failed', 'Could not turn the image into a PNG.', { cause });
  }
}
