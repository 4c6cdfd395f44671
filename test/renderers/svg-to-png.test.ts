import { Resvg } from '@resvg/resvg-js';
import { PNG } from 'pngjs';
import { encodePng } from '../../renderers/png/encode-png.ts';
import { svgToPng } from '../../renderers/png/svg-to-png.ts';
import { FONT_FILES, MONO_FAMILY, rasterFontFiles, SANS_FAMILY } from '../../renderers/png/font-files.ts';

/** A deterministic RGBA image: a gradient, with the given alpha everywhere. */
function gradient(width: number, height: number, alpha: (x: number, y: number) => number): Uint8Array {
  const px = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      px.set([(x * 7) & 255, (y * 13) & 255, (x * y) & 255, alpha(x, y)], i);
    }
  }
  return px;
}

describe('encodePng', () => {
  it('writes an opaque image as RGB that decodes to the same pixels', async () => {
    const px = gradient(37, 23, () => 255);
    const png = await encodePng(px, 37, 23);
    expect(png[25]).toBe(2); // IHDR colour type: truecolour without alpha
    const decoded = PNG.sync.read(png);
    expect([decoded.width, decoded.height]).toEqual([37, 23]);
    expect(Buffer.from(decoded.data).equals(Buffer.from(px))).toBe(true);
  });

  it.each([
    [1, 1],
    [1, 5],
    [5, 1],
  ])(
    'writes a %i × %i opaque image exactly (each pixel is copied as a word into the next one)',
    async (w, h) => {
      const px = gradient(w, h, () => 255);
      const decoded = PNG.sync.read(await encodePng(px, w, h));
      expect(Buffer.from(decoded.data).equals(Buffer.from(px))).toBe(true);
    },
  );

  it('keeps the alpha channel when any pixel is not opaque', async () => {
    const px = gradient(16, 9, (x, y) => (x === 15 && y === 8 ? 128 : 255));
    const png = await encodePng(px, 16, 9);
    expect(png[25]).toBe(6); // truecolour with alpha
    expect(Buffer.from(PNG.sync.read(png).data).equals(Buffer.from(px))).toBe(true);
  });

  it('refuses a pixel buffer of the wrong size', async () => {
    await expect(encodePng(new Uint8Array(10), 2, 2)).rejects.toThrow(RangeError);
  });
});

describe('svgToPng fonts', () => {
  const svgOf = (regular: string, bold: string) =>
    '<svg xmlns="http://www.w3.org/2000/svg" width="420" height="70">' +
    `<text x="4" y="24" font-family="${SANS_FAMILY}" font-size="15">${regular}</text>` +
    `<text x="4" y="54" font-family="${MONO_FAMILY}" font-weight="bold" font-size="15">${bold}</text>` +
    '</svg>';

  /** What resvg draws with the four full DejaVu files, as before the subsets. */
  function withFullFonts(svg: string): Buffer {
    return new Resvg(svg, {
      fitTo: { mode: 'zoom', value: 2 },
      background: 'white',
      font: {
        fontFiles: Object.values(FONT_FILES),
        loadSystemFonts: false,
        defaultFontFamily: SANS_FAMILY,
        sansSerifFamily: SANS_FAMILY,
      },
      logLevel: 'off',
    })
      .render()
      .pixels.subarray();
  }

  it.each([
    [
      'Latin and the symbols threadql writes (the Latin subsets)',
      'Übersicht Łódź → · − … € ≤',
      'Total 1,234.5 ×',
    ],
    [
      'Latin, Greek, Cyrillic and symbols (the subsets)',
      'AVATAR Übersicht Ωμέγα Привет € → ≤',
      'Total 1,234.5 ✓',
    ],
    ['Armenian and a sun in bold mono (full files only)', 'Regular', 'Բարեւ ☀ 1,234.5'],
    ['a numeric character reference', 'x &#1330; y', 'bold'],
  ])('draws %s exactly as the full DejaVu files do', async (_name, regular, bold) => {
    const svg = svgOf(regular, bold);
    const out = await svgToPng(svg);
    const decoded = PNG.sync.read(out.png);
    expect(Buffer.from(decoded.data).equals(withFullFonts(svg))).toBe(true);
  });

  it('uses the smallest subsets whose ranges hold every character, else the full files', () => {
    const set = (regular: string, bold: string) =>
      rasterFontFiles(svgOf(regular, bold)).map((f) => f.split('/').at(-2));
    expect(set('Łódź café → · −', '1,234.5 ×')).toEqual(['latin', 'latin', 'latin', 'latin']);
    expect(set('Ωμέγα €', '→ ≤')).toEqual(['subset', 'subset', 'subset', 'subset']);
    expect(rasterFontFiles(svgOf('Բարեւ', ''))).toEqual(Object.values(FONT_FILES));
    expect(rasterFontFiles(svgOf('&#1330;', ''))).toEqual(Object.values(FONT_FILES));
  });
});
