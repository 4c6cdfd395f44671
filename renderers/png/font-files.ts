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

const FACES = ['DejaVuSans', 'DejaVuSans-Bold', 'DejaVuSansMono', 'DejaVuSansMono-Bold'];
const FULL_FILES: readonly string[] = Object.values(FONT_FILES);

/** Matches a character outside a set's ranges (fonts/<set>/unicode-ranges.txt), or a numeric reference. */
function outside(set: string): RegExp {
  const ranges = readFileSync(fontPath(`${set}/unicode-ranges.txt`), 'utf8')
    .trim()
    .split(',')
    .map((range) => {
      const [from, to = from] = range.replace(/U\+/g, '').split('-');
      return `\\u{${from}}-\\u{${to}}`;
    })
    .join('');
  return new RegExp(`[^${ranges}]|&#`, 'u');
}

/** The unhinted subsets, smallest first (made by scripts/subset-fonts.sh: same glyphs and kerning). */
const SUBSETS = ['latin', 'subset'].map((set) => ({
  outside: outside(set),
  files: FACES.map((face) => fontPath(`${set}/${face}.ttf`)),
}));

/**
 * The font files resvg should load for an SVG. resvg-js reads a font's whole file again for every glyph it draws
 * and cannot take fonts from memory, so the smallest subset whose ranges hold every character is used: Latin
 * (~9× smaller than the full files), else Latin, Greek, Cyrillic and symbols (~3.5× smaller); otherwise the full
 * files. Never two sets together: resvg's per-character fallback ignores weight and family, so a glyph missing
 * from a bold subset would be drawn from the regular face of another set.
 */
export function rasterFontFiles(svg: string): readonly string[] {
  return SUBSETS.find((set) => !set.outside.test(svg))?.files ?? FULL_FILES;
}

/** Advance width of one DejaVu Sans Mono cell, in em (1233 of 2048 font units). */
export const MONO_ADVANCE_EM = 1233 / 2048;
