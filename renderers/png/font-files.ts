/**
 * The fonts that ship with threadql (fonts/, DejaVu, see fonts/LICENSE). resvg draws no text without a font, so
 * every PNG renderer passes these explicitly and never depends on what the host has installed.
 */
import { fileURLToPath } from 'node:url';

const fontPath = (file: string): string => fileURLToPath(new URL(`../../fonts/${file}`, import.meta.url));

/** Proportional sans for charts and titles. */
export const SANS_FAMILY = 'DejaVu Sans';
/** Monospace for table cells (widths are computed, so the columns line up exactly). */
export const MONO_FAMILY = 'DejaVu Sans Mono';

/** Paths of the shipped TTF files. */
export const FONT_FILES = {
  sans: fontPath('DejaVuSans.ttf'),
  sansBold: fontPath('DejaVuSans-Bold.ttf'),
  mono: fontPath('DejaVuSansMono.ttf'),
  monoBold: fontPath('DejaVuSansMono-Bold.ttf'),
} as const;

/** Advance width of one DejaVu Sans Mono cell, in em (1233 of 2048 font units). */
export const MONO_ADVANCE_EM = 1233 / 2048;
