# Reliable message latency under loss: the distribution of one-way delivery times, per library and
# loss rate. make_plots.sh turns tickwire-bench-transport's latency CSV into one block per series
# (sorted latency, cumulative fraction), with the series' name on the block's first line.
# gnuplot -e "data='reliable_latency_cdf.dat'; out='reliable_latency_cdf.svg'; blocks=4" reliable_latency_cdf.gp
load dir."common.gp"
set datafile separator whitespace
set output out
set title "Reliable 64 B messages at 60/s, 25 ms each way, 5 ms jitter: one-way latency"
set xlabel "one-way delivery latency (ms)"
set ylabel "share of messages delivered within"
set logscale x 10
set xrange [20:*]
set yrange [0:1]
set ytics 0.1
set key bottom right box opaque
set style data lines
plot for [i=0:blocks-1] data index i using 1:2 with lines lw 2 title columnheader(1)
