import { PNG } from 'pngjs';
import {
  htmlSvgToXml,
  MARGIN,
  mermaidSvgToPng,
  pickScale,
  withMargin,
} from '../../renderers/erd/mermaid-png.ts';
import { svgLabels } from './support/svg-labels.ts';

/** A root element the way mermaid writes one (width, height and a viewBox that does not start at 0). */
const mermaidLike = (body: string) =>
  `<svg id="erd1" width="200" xmlns="http://www.w3.org/2000/svg" class="erDiagram" height="100" viewBox="6.5 4 200 100">${body}</svg>`;

describe('withMargin', () => {
  it('widens the root width, height and viewBox by the margin on every side, leaving the rest alone', () => {
    const body = '<rect x="6.5" y="4" width="200" height="100" fill="#4c78a8"/>';
    const out = withMargin(mermaidLike(body), 24);
    expect(out).toMatchObject({ width: 248, height: 148 });
    expect(out.svg).toBe(
      `<svg id="erd1" width="248" xmlns="http://www.w3.org/2000/svg" class="erDiagram" height="148" viewBox="-17.5 -20 248 148">${body}</svg>`,
    );
  });

  it('keeps the drawing at its size when the viewBox is in other units than the width', () => {
    const out = withMargin('<svg width="200" height="100" viewBox="0 0 400 200"></svg>', 10);
    expect(out.svg).toContain('viewBox="-20 -20 440 240"');
  });

  it('refuses an SVG without a size with render_failed', () => {
    expect(() => withMargin('<svg viewBox="0 0 10 10"></svg>', 24)).toThrow(
      expect.objectContaining({ code: 'render_failed' }),
    );
    expect(() => withMargin('<div>not an svg</div>', 24)).toThrow(
      expect.objectContaining({ code: 'render_failed' }),
    );
  });
});

describe('htmlSvgToXml', () => {
  it('turns the HTML-only &nbsp; into the character and drops characters XML forbids', () => {
    expect(htmlSvgToXml('<text>order&nbsp;items bell\u0007col tab\tok &amp;</text>')).toBe(
      '<text>order\u00a0items bellcol tab\tok &amp;</text>',
    );
  });
});

describe('pickScale', () => {
  it('keeps 2× while the diagram fits a 4K viewer at 2×', () => {
    expect(pickScale(700, 900)).toBe(2);
    expect(pickScale(700, 900, { scale: 1.5 })).toBe(1.5);
  });

  it('fits a tall diagram to the viewer height and a wide one to its width', () => {
    expect(pickScale(737, 1594)).toBe(1.35); // 2,160 / 1,594
    expect(pickScale(2585, 560)).toBe(1.48); // 3,840 / 2,585
    expect(pickScale(737, 1594, { viewer: { width: 3000, height: 3000 } })).toBe(1.88);
  });

  it('never goes below 1× for the viewer', () => {
    expect(pickScale(1823, 2417)).toBe(1);
    expect(pickScale(4000, 4000)).toBe(1);
  });

  it('goes below 1× only for the hard caps: total pixels and longest side', () => {
    expect(pickScale(8000, 8000)).toBe(0.75);
    expect(pickScale(32_000, 200)).toBe(0.5);
  });
});

describe('mermaidSvgToPng', () => {
  it('draws the SVG with its margin in white, at the chosen scale', async () => {
    const svg = mermaidLike(
      '<rect x="6.5" y="4" width="200" height="100" fill="#4c78a8"/>' +
        '<text x="20" y="60" font-family="DejaVu Sans" font-size="13">order&nbsp;items</text>',
    );
    const out = await mermaidSvgToPng(svg);
    expect(out.scale).toBe(2);
    expect([out.width, out.height]).toEqual([(200 + 2 * MARGIN) * 2, (100 + 2 * MARGIN) * 2]);
    expect(svgLabels(out.svg)).toEqual(['order\u00a0items']);
    const image = PNG.sync.read(out.png);
    expect([image.width, image.height]).toEqual([out.width, out.height]);
    const at = (x: number, y: number) => [
      ...image.data.subarray((y * image.width + x) * 4, (y * image.width + x) * 4 + 3),
    ];
    expect(at(5, 5)).toEqual([255, 255, 255]); // the margin
    expect(at(MARGIN * 2 + 4, MARGIN * 2 + 4)).toEqual([0x4c, 0x78, 0xa8]); // the drawing, shifted by it
  });
});
