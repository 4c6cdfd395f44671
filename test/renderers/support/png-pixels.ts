import { PNG } from 'pngjs';

export interface PngStats {
  width: number;
  height: number;
  /** Share of pixels that are not (near) white. */
  inkShare: number;
  /** Distinct colours among the sampled pixels (quantised to 4 bits a channel). */
  colours: number;
  /** Share of pixels that are (near) black or dark grey, i.e. text and lines. */
  darkShare: number;
}

/** Decodes a PNG (pngjs) and summarises its pixels, so tests can tell a drawn image from a blank one. */
export function pngStats(png: Buffer): PngStats {
  const image = PNG.sync.read(png);
  const { width, height, data } = image;
  let ink = 0;
  let dark = 0;
  const colours = new Set<number>();
  for (let i = 0; i < data.length; i += 4) {
    const r = data[i]!;
    const g = data[i + 1]!;
    const b = data[i + 2]!;
    const a = data[i + 3]!;
    if (a > 16 && (r < 235 || g < 235 || b < 235)) ink++;
    if (a > 16 && r < 110 && g < 110 && b < 110) dark++;
    colours.add(((r >> 4) << 8) | ((g >> 4) << 4) | (b >> 4));
  }
  const pixels = width * height;
  return { width, height, inkShare: ink / pixels, colours: colours.size, darkShare: dark / pixels };
}

/** Width and height from the PNG's IHDR chunk, without decoding. */
export function pngSize(png: Buffer): { width: number; height: number } {
  if (png.subarray(1, 4).toString('latin1') !== 'PNG') throw new Error('not a PNG');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}
