#!/usr/bin/env bash
# Folder throughput of `cephtrace predict --image-dir`: images per minute and peak RSS on 50
# ISBI Test1 films (151-200) for each --jobs/--threads pair given (default: one image at a
# time on all cores, then two images at once with one thread each).
#   bash tools/measure_folder_throughput.sh [build] [isbi-data-dir] ["JOBSxTHREADS" ...]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
data=${2:-${CEPHTRACE_ISBI_DIR:-../shared/data/isbi2015}}
shift $(( $# > 2 ? 2 : $# ))
configs=("$@")
[ ${#configs[@]} -gt 0 ] || configs=("1x2" "2x1")
[ -d "$data/images" ] || { echo "no ISBI images in $data/images" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/images"
for i in $(seq 151 200); do ln -s "$(realpath "$data/images/$i.jpg")" "$work/images/"; done
echo "| --jobs | --threads | images | wall s | images / min | peak RSS MiB | load avg before |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
for c in "${configs[@]}"; do
  jobs=${c%x*} threads=${c#*x}
  load=$(cut -d' ' -f1 /proc/loadavg)
  start=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$work/rss" "$build/bin/cephtrace" predict --image-dir "$work/images" \
    --model-dir models --quiet --jobs "$jobs" --threads "$threads" --output "$work/out.json" 2> "$work/log" \
    || { tail -5 "$work/log" >&2; exit 1; }
  end=$(date +%s.%N)
  awk -v j="$jobs" -v t="$threads" -v s="$start" -v e="$end" -v rss="$(tail -1 "$work/rss")" -v l="$load" \
    'BEGIN { w = e - s; printf "| %d | %d | 50 | %.1f | %.1f | %.0f | %s |\n", j, t, w, 50 * 60 / w, rss / 1024, l }'
done
