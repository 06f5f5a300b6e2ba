# What every plot shares: SVG of a fixed size, no timestamps (so that redrawing the same data gives
# the same file), a light grid, CSV input.
set terminal svg size 720,420 dynamic font "DejaVu Sans,12" background rgb "white"
set datafile separator ","
set key top left box opaque
set grid lc rgb "#dddddd"
set border lc rgb "#555555"
set style data linespoints
