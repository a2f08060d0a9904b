# The progress lines of the project's builds (sourced by scripts/toolchain.sh and
# scripts/cluster.sh): one line per part with the seconds since the start, and a failure
# named with the last lines of the build's log. The sourcing script sets `progress_tag`
# (what the lines start with) and `log` (where Go's output went).
t_start=$SECONDS
# CPU seconds (user + system) this shell's finished children have used so far, in `cpu_at`:
# bash's `times`, run in this shell (a command substitution would ask a subshell, whose
# children are not the builds). The builds are CPU-bound on small machines: each part's
# line says its CPU seconds beside its wall seconds, so a cold run shows what costs. Only
# exact in a shell with no background children: bash adds a background job's whole CPU to
# its parent's when it reaps it, at whatever moment that is (scripts/go-programs.sh's
# go_build_in counts inside the build's own subshell instead).
cpu_mark() {
  local f="${log}.times.$BASHPID"
  times >"$f"
  cpu_at=$(children_cpu "$f")
  rm -f "$f"
}
# The children's CPU seconds from a file holding the output of `times` (its second line).
children_cpu() {
  awk 'NR == 2 { s = 0; for (i = 1; i <= 2; i++) { split($i, p, "m"); s += p[1] * 60 + p[2] } printf "%d", s }' "$1"
}
step() { printf '[%s] %-58s %4ss\n' "$progress_tag" "$*" "$((SECONDS - t_start))" >&2; }
# A full disk fails a build and then the writes of its log too, leaving nothing to show: a
# failure names the file system that is short of space (under 1 GiB free) among the log's
# and Go's caches'.
short_of_space() {
  local d free
  for d in "$(dirname "$log")" "$(go env GOCACHE 2>/dev/null)" "$(go env GOMODCACHE 2>/dev/null)"; do
    [ -d "$d" ] || continue
    free=$(df -Pk "$d" | awk 'NR == 2 { printf "%d", $4 / 1024 }')
    if [ "$free" -lt 1024 ]; then
      printf '; %s has %s MiB free (a cold build needs about 16 GiB for Go'"'"'s caches)' "$d" "$free"
      return
    fi
  done
}
fail() {
  printf '[%s] FAILED at step "%s": %s%s\n' "$progress_tag" "$1" "$2" "$(short_of_space)" >&2
  if [ -s "$log" ]; then
    printf '[%s] last lines of %s:\n' "$progress_tag" "$log" >&2
    tail -n 15 "$log" | sed 's/^/    /' >&2
  fi
  exit 1
}
