#!/usr/bin/env bash
# `make compose-test`: compose.yaml for real, with podman-compose (a pinned version in its own venv: podman 4.3 has no
# `podman compose`). It builds the paybutton image through the compose file's `build:` and a PostgreSQL image from
# Debian's package (container/postgres.Containerfile; no registry here, so not the file's default postgres image),
# brings the file up under a project of its own on two free host ports, waits for every health check, makes an app and
# a good with the CLI of instance 1, places and pays an order through instance 1 and reads it paid through instance 2
# (two servers, one database), runs `paybutton check` in instance 2, and removes the project's containers, volumes and
# network, also when a step fails. Needs root (debootstrap, podman without a registry).
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${PAYBUTTON_IMAGE_CACHE:-/var/cache/paybutton-image}"
export PAYBUTTON_IMAGE="${PAYBUTTON_IMAGE:-localhost/paybutton:test}"
export PAYBUTTON_POSTGRES_IMAGE="${PAYBUTTON_POSTGRES_IMAGE:-localhost/paybutton-postgres:15}"
PROJECT="pbcompose$$"
TOOLS="$CACHE/compose-tools-$(sha256sum container/compose-tools.lock | cut -c1-12)"
CA=/etc/ssl/certs/ca-certificates.crt
BUILD_LOG=/tmp/paybutton-compose-build.log UP_LOG=/tmp/paybutton-compose-up.log
started=$(date +%s)
say() { echo "compose-test: $*"; }
quiet() { grep -v 'systemd connection' >&2 || true; }  # podman without systemd says so on every run; nothing else

if ! command -v podman >/dev/null || ! command -v debootstrap >/dev/null; then
  say "installing Debian's podman, debootstrap, runc and slirp4netns"
  apt-get install -y -qq podman debootstrap runc slirp4netns >/dev/null
fi
scripts/image-base.sh
mkdir -p "$CACHE"
if [ ! -x "$TOOLS/bin/podman-compose" ]; then  # container/compose-tools.lock: podman-compose and its two packages
  rm -rf "$TOOLS"
  python3 -m venv "$TOOLS"
  PIP_CERT="$CA" "$TOOLS/bin/pip" install --disable-pip-version-check --require-hashes --no-deps \
    -r container/compose-tools.lock >"$TOOLS.log" 2>&1 || { tail -20 "$TOOLS.log"; rm -rf "$TOOLS"; exit 1; }
fi
# Two free host ports for the instances (compose.yaml's PAYBUTTON_HOST_PORT_1/_2; 8001 and 8002 by default).
read -r PORT1 PORT2 < <(python3 -c 'import socket
s=[socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1", 0)) for x in s]
print(*(x.getsockname()[1] for x in s))')
export PAYBUTTON_HOST_PORT_1="$PORT1" PAYBUTTON_HOST_PORT_2="$PORT2"
PC=("$TOOLS/bin/podman-compose" --no-ansi -p "$PROJECT" -f compose.yaml --in-pod false
    --podman-run-args "--runtime runc --ulimit nofile=10000:10000 --ulimit nproc=1000:1000"
    --podman-build-args "--pull=never --format docker --secret id=ca,src=$CA")
say "$("${PC[0]}" version | head -1), $(podman --version); project $PROJECT, instances on 127.0.0.1:$PORT1 and :$PORT2"

# What the project owns: podman-compose names every container, volume and network "<project>_…".
owned() {
  case $1 in
    container) podman ps -a --format '{{.Names}}' ;;
    volume) podman volume ls --format '{{.Name}}' ;;
    network) podman network ls --format '{{.Name}}' ;;
  esac | grep "^${PROJECT}_" || true
}
cleanup() {
  local rc=$? kind
  if [ "$rc" != 0 ]; then
    for c in $(owned container); do
      echo "--- $(podman inspect -f '{{.Name}} ({{.State.Status}}, exit {{.State.ExitCode}})' "$c")"
      podman logs --tail 15 "$c" 2>&1 | grep -v 'systemd connection' || true
    done
  fi
  "${PC[@]}" down -v -t 10 >/tmp/paybutton-compose-down.log 2>&1 || true
  # whatever `down` left (a failed `up` may leave what it does not know of)
  owned container | xargs -r podman rm -f -v >/dev/null 2>&1 || true
  owned volume | xargs -r podman volume rm -f >/dev/null 2>&1 || true
  owned network | xargs -r podman network rm -f >/dev/null 2>&1 || true
  say "torn down: $(for kind in container volume network; do echo -n "$(owned $kind | wc -l) ${kind}s "; done)left"
  [ "$rc" = 0 ] && say "passed in $(( $(date +%s) - started )) s" || say "FAILED after $(( $(date +%s) - started )) s"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM  # through cleanup

t0=$(date +%s)
podman build --pull=never --format docker -t "$PAYBUTTON_POSTGRES_IMAGE" -f container/postgres.Containerfile . \
  >"$BUILD_LOG" 2>&1 || { tail -30 "$BUILD_LOG"; exit 1; }
# migrate, paybutton-1 and paybutton-2 share one `build:` and image: build it once (`build` alone runs three builds)
"${PC[@]}" build migrate >>"$BUILD_LOG" 2>&1 || { tail -30 "$BUILD_LOG"; exit 1; }
say "built $PAYBUTTON_POSTGRES_IMAGE and (compose build) $PAYBUTTON_IMAGE in $(( $(date +%s) - t0 )) s" \
    "(log: $BUILD_LOG)"

cid() { podman ps -aq --filter "label=io.podman.compose.project=$PROJECT" \
          --filter "label=io.podman.compose.service=$1"; }
# Without systemd podman runs no health check by itself, and podman before 4.6 cannot wait for "healthy" (so
# podman-compose skips depends_on's service_healthy): run the service's own HEALTHCHECK until it passes.
healthy() {
  local c t=$(date +%s)
  c=$(cid "$1")
  for _ in $(seq 1 120); do
    if podman healthcheck run "$c" >/dev/null 2> >(quiet); then
      say "$1 healthy after $(( $(date +%s) - t )) s ($(podman inspect -f '{{.Config.Image}}' "$c"))"
      return 0
    fi
    [ "$(podman inspect -f '{{.State.Status}}' "$c")" = running ] || { say "$1 is not running"; return 1; }
    sleep 0.5
  done
  say "$1: no health after 60 s"; return 1
}

# compose.yaml's depends_on order, one step at a time (`up --no-deps`): podman 4.3 cannot wait for "healthy", and
# podman-compose turns depends_on into podman's --requires, with which starting an instance failed here ("container
# <migrate> depends on container <db> not found in input list").
t0=$(date +%s)
up() {
  "${PC[@]}" up -d --no-deps "$@" >>"$UP_LOG" 2>&1 || { tail -30 "$UP_LOG"; exit 1; }
}
: >"$UP_LOG"
up db
healthy db                                               # depends_on: {db: {condition: service_healthy}}
up migrate
migrated=$(podman wait "$(cid migrate)" 2> >(quiet))     # {migrate: {condition: service_completed_successfully}}
[ "$migrated" = 0 ] || { say "migrate exited $migrated"; exit 1; }
say "migrate: $(podman logs "$(cid migrate)" 2>&1 | grep -v 'systemd connection' | tail -1) (exit 0)"
up paybutton-1 paybutton-2
healthy paybutton-1
healthy paybutton-2
say "up in $(( $(date +%s) - t0 )) s: $(podman ps --filter "label=io.podman.compose.project=$PROJECT" \
      --format '{{.Names}}' | sort | tr '\n' ' ')"

# The CLI of instance 1 (`podman-compose exec`, as compose.yaml's header says) makes an app and a good.
pb() { "${PC[@]}" exec -T "$1" paybutton "${@:2}" 2> >(quiet); }
app=$(pb paybutton-1 app create --name "compose test" --json \
      | python3 -c 'import sys,json;print(json.load(sys.stdin)["app_id"])')
pb paybutton-1 goods add --app "$app" --id hotpot --name 火锅 --price 16800 --stock 10 >/dev/null
token=$(pb paybutton-1 buyer-token --app "$app" --open-id buyer1)
# Placed and paid through instance 1, read back paid through instance 2.
python3 scripts/image_client.py "http://127.0.0.1:$PORT1" "$token" hotpot "http://127.0.0.1:$PORT2" | sed 's/^/  /'
pb paybutton-2 check | sed 's/^/  instance 2: /'
pb paybutton-2 audit --app "$app" | awk '{print "  audit (instance 2):", $1, $4, $5}'
