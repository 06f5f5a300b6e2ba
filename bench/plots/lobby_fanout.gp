# Lobby chat fan-out against room size, for the three servers (tickwire-bench-lobby --csv).
# gnuplot -e "data='lobby_fanout.csv'; out='lobby_fanout.svg'" lobby_fanout.gp
load dir."common.gp"
set terminal svg size 720,640 dynamic font "DejaVu Sans,12" background rgb "white"
set output out
set multiplot layout 2,1 title "Lobby chat fan-out: every client sends, each line goes to the whole room"
set xlabel "clients in the room"
set logscale x 2
set yrange [0:*]
set ylabel "deliveries per second"
set format y "%.0s%c"
plot data using "clients":"raw_deliveries_per_s" title "raw Beast (baseline)" dt 2 lw 2 pt 9, \
     data using "clients":"lobby_deliveries_per_s" title "Tickwire lobby" lw 2 pt 7, \
     data using "clients":"tls_deliveries_per_s" title "lobby over TLS" lw 2 pt 5
set ylabel "server CPU per delivery (us)"
set format y "%g"
set key bottom left
plot data using "clients":"raw_cpu_us" title "raw Beast (baseline)" dt 2 lw 2 pt 9, \
     data using "clients":"lobby_cpu_us" title "Tickwire lobby" lw 2 pt 7, \
     data using "clients":"tls_cpu_us" title "lobby over TLS" lw 2 pt 5
unset multiplot
