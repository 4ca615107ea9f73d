# shellcheck shell=bash
# Plots shared by bench/report.sh and the bench/report-NAME.sh modules (sourced).

# hist_png DAT PNG WIDTH TITLE YLABEL TITLE2 TITLE3 [gnuplot settings...]:
# clustered bars of DAT's columns 2 and 3, labelled by column 1.
hist_png() {
	local dat=$1 png=$2 width=$3 title=$4 ylabel=$5 t2=$6 t3=$7
	shift 7
	gnuplot <<GP
set terminal pngcairo size $width,420 font ",10"
set output "$png"
set title "$title"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.6
set ylabel "$ylabel"
$(printf '%s\n' "$@")
plot "$dat" using 2:xtic(1) title "$t2" lc rgb "#d9541e", "" using 3 title "$t3" lc rgb "#3b6ea8"
GP
}
