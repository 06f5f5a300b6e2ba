# Arena game server: tick CPU against player count (tickwire-bench-arena --csv).
# gnuplot -e "data='arena.csv'; out='arena_tick.svg'" arena_tick.gp
load dir."common.gp"
set output out
set title "Arena server: CPU per tick (60 Hz ticks, 30 Hz snapshots, 60 drones)"
set xlabel "players (bots in a separate process)"
set ylabel "game-thread CPU per tick (ms)"
set y2label "share of one core (%)"
set ytics nomirror
set y2tics
set yrange [0:*]
set y2range [0:*]
set xrange [0:*]
set key top left
plot data using "players":(column("tick_median_us")/1000) title "tick median" lw 2 pt 7, \
     data using "players":(column("tick_p99_us")/1000) title "tick p99" lw 2 pt 5, \
     data using "players":(column("sim_only_us")/1000) title "simulation alone (median)" lw 1 pt 1, \
     data using "players":(column("core_share")*100) axes x1y2 title "core share (right)" dt 2 lw 2 pt 9
