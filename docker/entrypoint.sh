#!/bin/sh
# seqserve API entrypoint: seed the models volume with the demo models baked
# into the image, then exec the command (CMD) so node receives signals directly.
#
# Why an entrypoint and not Docker's "populate an empty named volume from the
# image" behaviour: that only happens for a named volume that is empty when first
# mounted, never for bind mounts or Kubernetes volumes, and never again once any
# file exists (e.g. the worker wrote first). Seeding per model here is
# idempotent and works with any volume.
#
# Contract: for every directory <name> in MODELS_SEED_DIR, if MODELS_DIR/<name>
# does not exist it is copied to a hidden temp dir and renamed into place (so
# readers never see a half-copied model). Existing models are never touched; a
# deleted demo model comes back on the next start. Seeding failures (e.g. a
# read-only or foreign-owned volume) are logged and do not stop the API.
set -eu

seed_dir="${MODELS_SEED_DIR:-/app/models-seed}"
models_dir="${MODELS_DIR:-/app/models}"

log() { echo "seqserve-entrypoint: $*" >&2; }

if [ -d "$seed_dir" ]; then
  mkdir -p "$models_dir" 2>/dev/null || true
  # Leftovers of an interrupted seed (the name cannot collide with a model:
  # model names never start with a dot).
  rm -rf "$models_dir"/.seed-tmp-* 2>/dev/null || true
  for src in "$seed_dir"/*/; do
    [ -d "$src" ] || continue # the glob matched nothing
    name=$(basename "$src")
    dest="$models_dir/$name"
    [ -e "$dest" ] && continue
    tmp="$models_dir/.seed-tmp-$name.$$"
    # mv -T (GNU coreutils, present in both base images) fails instead of moving
    # into "$dest" if another process created it meanwhile.
    if cp -RP "$src" "$tmp" 2>/dev/null && mv -T "$tmp" "$dest" 2>/dev/null; then
      log "seeded model '$name' into $models_dir"
    else
      rm -rf "$tmp" 2>/dev/null || true
      log "warning: could not seed model '$name' into $models_dir (exists, read-only or not writable by uid $(id -u))"
    fi
  done
fi

exec "$@"
