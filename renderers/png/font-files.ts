/**
 * The fonts that ship with threadql (fonts/, DejaVu, see fonts/LICENSE). resvg draws no text without a font, so
 * every PNG renderer passes these explicitly and never depends on what the host has installed.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const fontPath = (file: string): string => fileURLToPath(new URL(`../../fonts/${file}`, import.meta.url));

/** Proportional sans for charts and titles. */
export const SANS_FAMILY = 'DejaVu Sans';
/** Monospace for table cells (widths are computed, so the columns line up exactly). */
export const MONO_FAMILY = 'DejaVu Sans Mono';

/** Paths of the shipped TTF files (every glyph DejaVu has; Chromium loads these for ER diagrams). */
export const FONT_FILES = {
  sans: fontPath('DejaVuSans.ttf'),
  sansBold: fontPath('DejaVuSans-Bold.ttf'),
  mono: fontPath('DejaVuSansMono.ttf'),
  monoBold: fontPath('DejaVuSansMono-Bold.ttf'),
} as const;

const SUBSET_FILES: readonly string[] = [
  fontPath('subset/DejaVuSans.ttf'),
  fontPath('subset/DejaVuSans-Bold.ttf'),
  fontPath('subset/DejaVuSansMono.ttf'),
  fontPath('subset/DejaVuSansMono-Bold.ttf'),
];
const FULL_FILES: readonly string[] = [
  FONT_FILES.sans,
  FONT_FILES.sansBold,
  FONT_FILES.mono,
  FONT_FILES.monoBold,
];

/** Matches a character outside the subsets' ranges (fonts/subset/unicode-ranges.txt), or a numeric reference. */
const OUTSIDE_SUBSET = new RegExp(
  `[^${readFileSync(fontPath('subset/unicode-ranges.txt'), 'utf8')
    .trim()
    .split(',')
    .map((range) => {
      const [from, to = from] = range.replace(/U\+/g, '').split('-');
      return `\\u{${from}}-\\u{${to}}`;
    })
    .join('')}]|&#`,
  'u',
);

/**
 * The font files resvg should load for an SVG. resvg-js reads a font's whole file again for every glyph it draws
 * and cannot take fonts from memory, so when every character lies in the ranges of the unhinted subsets
 * (fonts/subset, made by scripts/subset-fonts.sh: ~3.5× smaller, same glyphs and kerning) those are used, which
 * makes text ~2.5× cheaper; otherwise the full files. Never both: resvg's per-character fallback ignores weight
 * and family, so a glyph missing from the bold subset would be drawn from the regular full face.
 */
export function rasterFontFiles(svg: string): readonly string[] {
  return OUTSIDE_SUBSET.test(svg) ? FULL_FILES : SUBSET_FILES;
}

/** Advance width of one DejaVu Sans Mono cell, in em (1233 of 2048 font units). */
export const MONO_ADVANCE_EM = 1233 / 2048;
