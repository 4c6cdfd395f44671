import { renderAsync } from '@resvg/resvg-js';
import { RenderError } from '../../core/errors.ts';
import { encodePng } from './encode-png.ts';
import { rasterFontFiles, SANS_FAMILY } from './font-files.ts';

export interface SvgToPngOptions {
  /** Pixel density: 2 gives crisp images on high-DPI screens. */
  scale?: number;
  /** Font files to load; the shipped DejaVu fonts by default (see rasterFontFiles). System fonts are never loaded. */
  fontFiles?: string[];
  background?: string;
}

export interface PngImage {
  png: Buffer;
  /** Pixel size of the PNG. */
  width: number;
  height: number;
}

/** Rasterises an SVG with resvg (off the main thread) using only the shipped fonts; see encode-png.ts for the PNG. */
export async function svgToPng(svg: string, options: SvgToPngOptions = {}): Promise<PngImage> {
  const fontFiles = options.fontFiles ?? [...rasterFontFiles(svg)];
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
    return {
      png: await encodePng(image.pixels, image.width, image.height),
      width: image.width,
      height: image.height,
    };
  } catch (cause) {
    throw new RenderError('render_failed', 'Could not turn the image into a PNG.', { cause });
  }
}
