#!/usr/bin/env bash
# Draws the app icon and the tray icons with ImageMagick (`convert`). Re-run after a change;
# the PNGs are committed so a build needs no ImageMagick.
#
# Tray icons: three states (ok, failed, none = no credentials / no server), each for a dark
# panel (light glyph) and a light panel (dark glyph): tray-<state>-<panel>.png, 64x64.
# The state is the colour of the centre (green disc, red disc with "!", nothing) so it reads
# at 16 px and without colour vision (the shapes differ too).
set -euo pipefail
cd "$(dirname "$0")"
command -v convert >/dev/null || { echo "generate.sh: needs ImageMagick: apt-get install imagemagick" >&2; exit 1; }

for panel in dark light; do
    if [[ $panel == dark ]]; then fg='#f2f2f2'; else fg='#2b2b2b'; fi
    ring=(-stroke "$fg" -strokewidth 6 -fill none -draw "circle 32,32 32,7")
    convert -size 64x64 xc:none "${ring[@]}" \
        -stroke none -fill '#2ea043' -draw "circle 32,32 32,17" \
        -stroke white -strokewidth 4 -fill none -draw "polyline 24,33 30,39 41,26" \
        "tray-ok-$panel.png"
    convert -size 64x64 xc:none "${ring[@]}" \
        -stroke none -fill '#d1242f' -draw "circle 32,32 32,17" \
        -fill white -draw "roundrectangle 29,21 35,36 2,2" -draw "circle 32,42 32,45" \
        "tray-failed-$panel.png"
    convert -size 64x64 xc:none "${ring[@]}" \
        -stroke "$fg" -strokewidth 6 -draw "line 15,49 49,15" \
        "tray-none-$panel.png"
done

# App icon: the ok glyph on a rounded tile.
convert -size 512x512 xc:none \
    -fill '#1f4e79' -draw "roundrectangle 24,24 488,488 96,96" \
    -stroke '#f2f2f2' -strokewidth 40 -fill none -draw "circle 256,256 256,90" \
    -stroke none -fill '#2ea043' -draw "circle 256,256 256,150" \
    -stroke white -strokewidth 28 -fill none -draw "polyline 196,262 240,306 322,212" \
    icon.png
convert icon.png -resize 32x32 32x32.png
convert icon.png -resize 128x128 128x128.png
convert icon.png -resize 256x256 128x128@2x.png
echo "icons written to $(pwd)"
