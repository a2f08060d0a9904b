# The real node's images, made without a registry to pull from (sourced by
# scripts/cluster.sh). Three kinds, each cached by the content it is made from in
# ~/.cache/runbook-as-code/images, so a rebuild is skipped:
#   - the sandbox ("pause") image: Debian's static busybox sleeping;
#   - the app images of cluster/images.txt: the demo app (cluster/demo-app), its ports,
#     health endpoints, version and fault profile set in the image's environment;
#   - the toolbox the local stack's Jobs run (curl, pg_dump/psql, the AWS CLI): a minimal
#     Debian root file system made by mmdebstrap from the machine's own Debian sources.
# crane assembles each image; a registry of crane's on 127.0.0.1 lives only while images
# are made (crane edits an image's config in a registry), then each image is written as a
# tarball and imported into the node's containerd under the name the pods use.
# shellcheck shell=bash

TOOLBOX_IMAGE=runbook.local/toolbox:1
TOOLBOX_PACKAGES=curl,ca-certificates,postgresql-client,awscli,mawk
images_cache="${RUNBOOK_IMAGES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/runbook-as-code/images}"

# The app images: "reference port metrics health profile", one per line.
app_images() { awk '!/^#/ && NF == 5' "$root/cluster/images.txt"; }

content_key() { sha256sum | cut -c1-16; }

registry_pid=
registry_port=
start_registry() {
  local rlog="$dir/build/registry.log"
  "$bin/crane" registry serve --address 127.0.0.1:0 >"$rlog" 2>&1 9>&- &
  registry_pid=$!
  trap stop_registry EXIT
  for _ in $(seq 40); do
    registry_port=$(sed -n 's/.*serving on port \([0-9]*\).*/\1/p' "$rlog")
    [ -n "$registry_port" ] && return 0
    sleep 0.25
  done
  fail "make images" "crane's registry did not start (its log: .cluster/build/registry.log)"
}
stop_registry() {
  if [ -n "$registry_pid" ]; then
    kill "$registry_pid" 2>/dev/null || true
    wait "$registry_pid" 2>/dev/null || true
  fi
  registry_pid=
}

# Each function below adds the tarball of its image to image_tars, making it when it is not
# in the cache. (Not in a subshell: the registry they share is started once, in this shell.)
image_tars=()

# An image from one layer tarball and config changes, written to the cache as a tarball.
# make_image <out.tar> <reference> <layer.tar> <crane mutate flags...>
make_image() {
  local out=$1 ref=$2 layer=$3 staging
  shift 3
  [ -n "$registry_pid" ] || start_registry
  staging="127.0.0.1:$registry_port/${ref%%:*}:${ref##*:}"
  "$bin/crane" append --oci-empty-base -f "$layer" -t "$staging" >>"$log" 2>&1 \
    && "$bin/crane" mutate "$staging" --set-platform linux/amd64 "$@" -t "$ref" -o "$out.tmp" >>"$log" 2>&1 \
    && mv "$out.tmp" "$out" \
    || fail "make image $ref" "crane could not assemble it"
}

# A reproducible tarball of a directory (root-owned, fixed times).
layer_of() { tar -C "$1" --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -cf "$2" .; }

pause_image() {
  local key out stage
  key=$(sha256sum /bin/busybox | content_key)
  out="$images_cache/pause-$key.tar"
  if [ ! -f "$out" ]; then
    [ -x /bin/busybox ] || fail "make the pause image" "/bin/busybox is missing (Debian's busybox-static)"
    stage="$dir/build/image-pause" && rm -rf "$stage" && mkdir -p "$stage/bin"
    cp /bin/busybox "$stage/bin/busybox"
    layer_of "$stage" "$dir/build/pause-layer.tar"
    # SIGKILL is how the runtime stops a sandbox; sleep needs no signal handling.
    make_image "$out" "$PAUSE_IMAGE" "$dir/build/pause-layer.tar" --entrypoint /bin/busybox,sleep,2147483647
  fi
  image_tars+=("$out")
}

# The demo app's binary, built once per content of its source and Go version.
demo_app=
demo_app_binary() {
  local key
  key=$( (cat "$root"/cluster/demo-app/go.mod "$root"/cluster/demo-app/go.sum "$root"/cluster/demo-app/*.go; go version) | content_key)
  demo_app="$images_cache/demo-app-$key"
  [ -x "$demo_app" ] && return 0
  (cd "$root/cluster/demo-app" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$demo_app.tmp" .) >>"$log" 2>&1 \
    && mv "$demo_app.tmp" "$demo_app" || fail "build the demo app" "go build of cluster/demo-app failed"
}

app_image() {
  local ref=$1 port=$2 metrics=$3 health=$4 profile=$5 binary key out stage
  demo_app_binary
  binary=$demo_app
  key=$( (sha256sum "$binary"; echo "$ref $port $metrics $health $profile") | content_key)
  out="$images_cache/app-$key.tar"
  if [ ! -f "$out" ]; then
    stage="$dir/build/image-app" && rm -rf "$stage" && mkdir -p "$stage/app"
    cp "$binary" "$stage/app/demo-app"
    layer_of "$stage" "$dir/build/app-layer.tar"
    make_image "$out" "$ref" "$dir/build/app-layer.tar" --entrypoint /app/demo-app \
      --env "DEMO_VERSION=${ref##*:}" --env "DEMO_ADDR=:$port" --env "DEMO_METRICS_ADDR=:$metrics" \
      --env "DEMO_HEALTH=$health" --env "DEMO_FAULT=$profile"
  fi
  image_tars+=("$out")
}

# The toolbox: Debian's own curl, PostgreSQL client and AWS CLI on a minimal root file system
# of the machine's Debian release, from the machine's Debian sources. The root file system
# (mmdebstrap; minutes, mostly downloads) needs no part of the cluster, so `build` makes it
# beside the Go builds; the image is assembled from it at `up`.
toolbox_paths() {
  local codename sources f key
  codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
  sources=
  for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
    [ -s "$f" ] && { sources=$f; break; }
  done
  [ -n "$codename" ] && [ -n "$sources" ] || fail "make the toolbox image" "no Debian release or sources on this machine"
  key=$( (echo "$codename $TOOLBOX_PACKAGES"; cat "$sources") | content_key)
  toolbox_codename=$codename
  toolbox_sources=$sources
  toolbox_tar="$images_cache/toolbox-$key.tar"
  toolbox_rootfs_tar="$images_cache/toolbox-rootfs-$key.tar"
}

toolbox_rootfs() {
  toolbox_paths
  [ -f "$toolbox_tar" ] || [ -f "$toolbox_rootfs_tar" ] && return 0
  command -v mmdebstrap >/dev/null || fail "make the toolbox image" "mmdebstrap is missing (scripts/system-packages.sh installs it)"
  mkdir -p "$images_cache"
  local t=$SECONDS
  step "making the toolbox's root file system ($toolbox_codename: ${TOOLBOX_PACKAGES//,/, })"
  mmdebstrap --variant=essential --format=tar --include="$TOOLBOX_PACKAGES" --dpkgopt=path-exclude=/usr/share/doc/* \
    --dpkgopt=path-exclude=/usr/share/man/* --dpkgopt=path-exclude=/usr/share/locale/* \
    "$toolbox_codename" "$toolbox_rootfs_tar.tmp" "$toolbox_sources" >>"$dir/toolbox.log" 2>&1 \
    || { log="$dir/toolbox.log" fail "make the toolbox image" "mmdebstrap failed"; }
  mv "$toolbox_rootfs_tar.tmp" "$toolbox_rootfs_tar"
  step "made the toolbox's root file system in $((SECONDS - t)) s"
}

toolbox_image() {
  toolbox_paths
  if [ ! -f "$toolbox_tar" ]; then
    toolbox_rootfs
    make_image "$toolbox_tar" "$TOOLBOX_IMAGE" "$toolbox_rootfs_tar" --env PATH=/usr/local/bin:/usr/bin:/bin
    rm -f "$toolbox_rootfs_tar"
  fi
  image_tars+=("$toolbox_tar")
}

# Makes what is missing, then imports every image into the node's containerd.
import_images() {
  local line t
  mkdir -p "$images_cache" "$dir/build"
  step "making the node's images (cached in $(basename "$images_cache")/ by content)"
  image_tars=()
  pause_image
  toolbox_image
  while read -r line; do
    # shellcheck disable=SC2086
    app_image $line
  done < <(app_images)
  stop_registry
  for t in "${image_tars[@]}"; do
    ctr_k8s images import "$t" >>"$log" 2>&1 || fail "import images" "ctr images import $(basename "$t") failed"
  done
  step "imported ${#image_tars[@]} images into the node's containerd"
}

# One line per local image the pods can use: "<reference> <profile>".
list_images() {
  local have
  have=$(ctr_k8s images ls -q 2>/dev/null) || { echo "[cluster] the node is not running: npm run --silent cluster -- up" >&2; return 1; }
  app_images | while read -r ref _ _ _ profile; do
    grep -qxF "docker.io/$ref" <<<"$have" || grep -qxF "$ref" <<<"$have" && echo "$ref $profile"
  done
  grep -qxF "$TOOLBOX_IMAGE" <<<"$have" && echo "$TOOLBOX_IMAGE toolbox (curl, pg_dump, psql, aws)"
  grep -qxF "$PAUSE_IMAGE" <<<"$have" && echo "$PAUSE_IMAGE sandbox"
  true
}
