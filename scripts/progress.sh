# The progress lines of the project's builds (sourced by scripts/toolchain.sh and
# scripts/cluster.sh): one line per part with the seconds since the start, and a failure
# named with the last lines of the build's log. The sourcing script sets `progress_tag`
# (what the lines start with) and `log` (where Go's output went).
t_start=$SECONDS
# CPU seconds (user + system) this shell's finished children have used so far, in `cpu_at`:
# bash's `times`, run in this shell (a command substitution would ask a subshell, whose
# children are not the builds). The builds are CPU-bound on small machines: each part's
# line says its CPU seconds beside its wall seconds, so a cold run shows what costs.
cpu_mark() {
  local f="${log}.times.$BASHPID"
  times >"$f"
  cpu_at=$(awk 'NR == 2 { s = 0; for (i = 1; i <= 2; i++) { split($i, p, "m"); s += p[1] * 60 + p[2] } printf "%d", s }' "$f")
  rm -f "$f"
}
step() { printf '[%s] %-58s %4ss\n' "$progress_tag" "$*" "$((SECONDS - t_start))" >&2; }
fail() {
  printf '[%s] FAILED at step "%s": %s\n' "$progress_tag" "$1" "$2" >&2
  if [ -s "$log" ]; then
    printf '[%s] last lines of %s:\n' "$progress_tag" "$log" >&2
    tail -n 15 "$log" | sed 's/^/    /' >&2
  fi
  exit 1
}
