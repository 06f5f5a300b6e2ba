# Arena game server: downstream bandwidth per player against player count
# (tickwire-bench-arena --csv).
# gnuplot -e "data='arena.csv'; out='arena_bandwidth.svg'" arena_bandwidth.gp
load dir."common.gp"
set output out
set title "Arena server: downstream per player (snapshot budget 160 B)"
set xlabel "players"
set ylabel "kbit/s per player"
set yrange [0:*]
set xrange [0:*]
plot data using "players":"wire_kbps" title "on the wire (ENet headers, acks, resends)" lw 2 pt 7, \
     data using "players":"snapshot_kbps" title "delta snapshots" lw 2 pt 5, \
     data using "players":"full_kbps" title "full snapshots of the same world (baseline)" dt 2 lw 2 pt 9
