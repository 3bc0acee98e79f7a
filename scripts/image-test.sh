#!/usr/bin/env bash
# `make image-test`: build the container image and run it as the README's "Container" section says: refused without
# a database, then on SQLite (a volume) and on the host's PostgreSQL (127.0.0.1:5432, trust), each time an app and a
# good made with the CLI inside the container, an order placed and paid through it by scripts/image_client.py, the
# HEALTHCHECK run, `paybutton check`, and the container stopped. Needs root (debootstrap, podman without a registry).
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGE="${PAYBUTTON_IMAGE:-localhost/paybutton:test}"
PG_HOST_URL="${PAYBUTTON_IMAGE_PG:-postgresql://postgres@127.0.0.1:5432}"
RUN=(podman run --runtime runc --ulimit nofile=10000:10000 --ulimit nproc=1000:1000 --health-interval=disable)
TAG="pbimg$$"
started=$(date +%s)
quiet() { grep -v 'systemd connection' >&2 || true; }  # podman without systemd says so on every run; nothing else

if ! command -v podman >/dev/null || ! command -v debootstrap >/dev/null; then
  echo "image-test: installing Debian's podman, debootstrap, runc and slirp4netns"
  apt-get install -y -qq podman debootstrap runc slirp4netns >/dev/null
fi
scripts/image-base.sh

cleanup() {
  podman rm -f "$TAG-sqlite" "$TAG-pg" >/dev/null 2>&1 || true
  podman volume rm -f "$TAG-data" >/dev/null 2>&1 || true
  psql "$PG_HOST_URL/postgres" -qAtc "DROP DATABASE IF EXISTS $TAG WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

t0=$(date +%s)
podman build --pull=never --format docker --secret id=ca,src=/etc/ssl/certs/ca-certificates.crt \
  -t "$IMAGE" -f Containerfile . >/tmp/paybutton-image-build.log 2>&1 || { tail -30 /tmp/paybutton-image-build.log; exit 1; }
echo "image-test: built $IMAGE in $(( $(date +%s) - t0 )) s (log: /tmp/paybutton-image-build.log)"

# 1. No database URL and no volume: one line, exit 2.
set +e
msg=$("${RUN[@]}" --rm "$IMAGE" 2>&1 | grep -v 'systemd connection'); rc=${PIPESTATUS[0]}
set -e
[ "$rc" = 2 ] && grep -q "no database" <<<"$msg" || { echo "image-test: expected the no-database refusal, got $rc: $msg"; exit 1; }
echo "image-test: without a database it says: $msg"

# Wait for /healthz, run the image's HEALTHCHECK, make an app and a good, place and pay an order, check, stop.
drive() {
  local name=$1 cli_env=$2 port
  port=$(podman port "$name" 8000 | head -1 | sed 's/.*://')
  for _ in $(seq 1 120); do
    curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
    podman container exists "$name" || { echo "image-test: $name exited"; exit 1; }
    sleep 0.5
  done
  podman healthcheck run "$name" 2> >(quiet) || { echo "image-test: HEALTHCHECK failed"; podman logs "$name" | tail; exit 1; }
  local cli=(podman exec -e "PAYBUTTON_DATABASE_URL=$cli_env" "$name" paybutton)
  local app
  app=$("${cli[@]}" app create --name "image test" --json | python3 -c 'import sys,json;print(json.load(sys.stdin)["app_id"])')
  "${cli[@]}" goods add --app "$app" --id hotpot --name 火锅 --price 16800 --stock 10 >/dev/null
  python3 scripts/image_client.py "http://127.0.0.1:$port" "$("${cli[@]}" buyer-token --app "$app" --open-id buyer1)" hotpot
  "${cli[@]}" check
  "${cli[@]}" audit --app "$app" | sed 's/^/  audit: /'
  podman stop -t 10 "$name" >/dev/null 2> >(quiet)
  echo "image-test: $name stopped (exit $(podman inspect -f '{{.State.ExitCode}}' "$name"))"
}

# 2. SQLite on a volume (the default).
"${RUN[@]}" -d --name "$TAG-sqlite" -v "$TAG-data:/data" -p 127.0.0.1::8000 "$IMAGE" >/dev/null 2> >(quiet)
drive "$TAG-sqlite" "sqlite:////data/paybutton.db"
echo "image-test: SQLite ok"

# 3. The host's PostgreSQL (slirp4netns lets the container reach the host's loopback as 10.0.2.2).
psql "$PG_HOST_URL/postgres" -qAtc "CREATE DATABASE $TAG" >/dev/null
PG_URL="postgresql://postgres@10.0.2.2:5432/$TAG"
"${RUN[@]}" -d --name "$TAG-pg" --network slirp4netns:allow_host_loopback=true -p 127.0.0.1::8000 \
  -e PAYBUTTON_DATABASE_URL="$PG_URL" "$IMAGE" >/dev/null 2> >(quiet)
drive "$TAG-pg" "$PG_URL"
echo "image-test: PostgreSQL ok"
echo "image-test: passed in $(( $(date +%s) - started )) s"
