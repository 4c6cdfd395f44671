#!/usr/bin/env bash
# Regenerates fonts/subset/ from the full DejaVu files in fonts/ (needs fontTools: `apt-get install
# python3-fonttools`). Not part of the build: the output is committed.
#
# Why: resvg-js 2.6 (the chart and table-PNG rasteriser) keeps font files on disk and reads the whole file
# again for every glyph it draws (~38 µs per glyph for the 750 KB DejaVu Sans), and it has no way to pass fonts
# in memory. Subsets of the scripts tables and charts use (Latin, Greek, Cyrillic, punctuation, currency,
# arrows, maths, box drawing) without hinting instructions, which resvg does not use, are ~3.5× smaller, and
# draw pixel-identical glyphs. renderers/png/font-files.ts uses them for text whose characters all lie in
# these ranges, and the full files otherwise (resvg's fallback ignores weight and family, so mixing the two
# sets would draw a missing bold glyph in the regular face).
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The ranges are read by renderers/png/font-files.ts too: text with any other character uses the full files.
ranges="$(tr -d '[:space:]' < "$repo_root/fonts/subset/unicode-ranges.txt")"
for name in DejaVuSans DejaVuSans-Bold DejaVuSansMono DejaVuSansMono-Bold; do
  /usr/bin/python3 -m fontTools.subset "$repo_root/fonts/$name.ttf" \
    --unicodes="$ranges" --layout-features='*' --legacy-kern --no-hinting --notdef-outline \
    --name-IDs='*' --name-languages='*' --drop-tables+=FFTM \
    --output-file="$repo_root/fonts/subset/$name.ttf"
done
ls -l "$repo_root/fonts/subset"
