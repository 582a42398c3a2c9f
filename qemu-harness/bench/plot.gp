# SPDX-License-Identifier: GPL-2.0
# The benchmark's plot: gnuplot -e "dat='F'; png='F'; fls='base rm'" plot.gp
# dat: workload, TPM commands per client command for each kernel in fls,
# then median ms per op for each ("nan" where not measured).
n = words(fls)
set terminal pngcairo size 1200,900 noenhanced
set output png
set multiplot layout 2,1
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set xtics rotate by -30
set grid ytics
set key top left
set logscale y
set yrange [0.5:*]
set title "TPM commands per client command (counted at swtpm, loop phase)"
plot for [i=1:n] dat using (column(1 + i)):xtic(1) title word(fls, i)
set yrange [*:*]
set title "median wall time per client op, ms (guest CLOCK_MONOTONIC, QEMU TCG)"
plot for [i=1:n] dat using (column(1 + n + i)):xtic(1) title word(fls, i)
unset multiplot
