#!/usr/bin/env bash
# Regenerates fonts/subset/ and fonts/latin/ from the full DejaVu files in fonts/ (needs fontTools: `apt-get
# install python3-fonttools`). Not part of the build: the output is committed.
#
# Why: resvg-js 2.6 (the chart, table-PNG and ER-diagram rasteriser) keeps font files on disk and reads the whole
# file again for every glyph it draws (~38 µs per glyph for the 750 KB DejaVu Sans), and it has no way to pass
# fonts in memory. Subsets without hinting instructions, which resvg does not use, draw pixel-identical glyphs
# from smaller files: fonts/subset/ has the scripts tables and charts use (Latin, Greek, Cyrillic, punctuation,
# currency, arrows, maths, box drawing), ~3.5× smaller; fonts/latin/ has only Latin (ASCII to Latin Extended-A)
# with the punctuation, currency, arrows and box drawing threadql writes itself, ~9× smaller, which is what most
# identifiers and numbers need (a 30-table ER diagram rasterises ~20 % faster with it than with fonts/subset/).
# renderers/png/font-files.ts uses the smallest set whose ranges hold every character of the text, and the full
# files otherwise (resvg's fallback ignores weight and family, so mixing two sets would draw a missing bold glyph
# in the regular face).
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
for set in subset latin; do
  # The ranges are read by renderers/png/font-files.ts too: text with any other character uses a larger set.
  ranges="$(tr -d '[:space:]' < "$repo_root/fonts/$set/unicode-ranges.txt")"
  for name in DejaVuSans DejaVuSans-Bold DejaVuSansMono DejaVuSansMono-Bold; do
    /usr/bin/python3 -m fontTools.subset "$repo_root/fonts/$name.ttf" \
      --unicodes="$ranges" --layout-features='*' --legacy-kern --no-hinting --notdef-outline \
      --name-IDs='*' --name-languages='*' --drop-tables+=FFTM \
      --output-file="$repo_root/fonts/$set/$name.ttf"
  done
  ls -l "$repo_root/fonts/$set"
done
