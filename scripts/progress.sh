# The progress lines of the project's builds (sourced by scripts/toolchain.sh and
# scripts/cluster.sh): one line per part with the seconds since the start, and a failure
# named with the last lines of the build's log. The sourcing script sets `progress_tag`
# (what the lines start with) and `log` (where Go's output went).
t_start=$SECONDS
step() { printf '[%s] %-58s %4ss\n' "$progress_tag" "$*" "$((SECONDS - t_start))" >&2; }
fail() {
  printf '[%s] FAILED at step "%s": %s\n' "$progress_tag" "$1" "$2" >&2
  if [ -s "$log" ]; then
    printf '[%s] last lines of %s:\n' "$progress_tag" "$log" >&2
    tail -n 15 "$log" | sed 's/^/    /' >&2
  fi
  exit 1
}
