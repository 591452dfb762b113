#!/usr/bin/env bash
# A private, throw-away containerd (CRI plugin + runc + CNI bridge) for nodelet's CRI end-to-end tests.
#
# usage: containerd-env.sh start DIR    start (or reuse a running) containerd rooted in DIR; prints
#                                      CONTAINERD_ENDPOINT=unix://DIR/containerd.sock as its last line
#        containerd-env.sh stop DIR     stop it and clean up: containers, shims, mounts, netns, bridge
#        containerd-env.sh status DIR   exit 0 if the containerd of DIR answers
#
# Everything lives in DIR (config.toml, root/, state/, runc/, cni/, containerd.log, containerd.pid), except
# the CNI bridge link and containerd's shim sockets (/run/containerd/s/<hash>, unique per DIR). A fresh
# `start` wipes DIR/root and DIR/state so each run begins with no pods or containers; the image archives
# are cached (NODELET_CRI_IMAGE_CACHE, default DIR/images) and only re-imported.
#
# env (all optional):
#   NODELET_CRI_SNAPSHOTTER   overlayfs | native (default: overlayfs if an overlay mount works in DIR)
#   NODELET_CRI_BRIDGE        CNI bridge name (default nodelet0)
#   NODELET_CRI_SUBNET        pod subnet (default 10.88.77.0/24)
#   NODELET_CRI_IMAGE_CACHE   where the image tars are kept (default DIR/images)
#   NODELET_CRI_START_TIMEOUT seconds to wait for the socket (default 30)
#   CONTAINERD, CTR, RUNC     binaries (default: from PATH)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CONTAINERD=${CONTAINERD:-containerd}
CTR=${CTR:-ctr}
RUNC=${RUNC:-runc}
NS=k8s.io
BUSYBOX_REF=nodelet.test/busybox:1
PAUSE_REF=nodelet.test/pause:1
# The pause container: PID 1 of its pid namespace ignores signals it has no handler for, so it needs a
# trap to die on TERM/INT; it also kills its sleep so nothing is orphaned when the pod shares the host PID ns.
PAUSE_SCRIPT='trap "kill \$! 2>/dev/null; exit 0" TERM INT; while :; do sleep 86400 & wait $!; done'

usage() { echo "usage: $0 start|stop|restart|status DIR" >&2; exit 2; }
log() { echo "containerd-env: $*" >&2; }
now_ms() { date +%s%3N; }

[ $# -eq 2 ] || usage
action=$1
case "$action" in start|stop|restart|status) ;; *) usage ;; esac

if [ "$action" = start ]; then mkdir -p "$2"; fi
if [ ! -d "$2" ]; then
  [ "$action" = stop ] && exit 0
  exit 1
fi
dir=$(cd "$2" && pwd -P)
sock=$dir/containerd.sock
pidfile=$dir/containerd.pid
logfile=$dir/containerd.log
cfg=$dir/config.toml
envfile=$dir/env
if [ ${#sock} -ge 100 ]; then
  echo "containerd-env: socket path $sock is too long for a unix socket; use a shorter DIR" >&2
  exit 1
fi

ctr_() { "$CTR" --address "$sock" "$@"; }

# pid of our containerd if it is alive (pid file present and /proc/PID/exe is containerd).
live_pid() {
  local pid
  [ -f "$pidfile" ] || return 1
  pid=$(cat "$pidfile" 2>/dev/null) || return 1
  [ -n "$pid" ] && [ -d "/proc/$pid" ] || return 1
  case "$(readlink "/proc/$pid/exe" 2>/dev/null)" in *containerd*) ;; *) return 1 ;; esac
  case "$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline")" in *"$cfg"*) ;; *) return 1 ;; esac
  echo "$pid"
}

answers() { [ -S "$sock" ] && timeout 5 "$CTR" --address "$sock" version >/dev/null 2>&1; }

# wait_gone PID... : poll until none of the pids exists, up to $deadline_s seconds; 0 if all gone.
wait_gone() {
  local deadline=$(( $(now_ms) + $1 * 1000 )); shift
  local p alive
  while :; do
    alive=0
    for p in "$@"; do [ -d "/proc/$p" ] && [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" != Z ] && alive=1; done
    [ $alive -eq 0 ] && return 0
    [ "$(now_ms)" -ge "$deadline" ] && return 1
    sleep 0.05
  done
}

# pids of containerd-shim processes whose command line mentions DIR (their -address is DIR/containerd.sock).
shim_pids() {
  local f pid
  { grep -lsaF -- "$dir/containerd.sock" /proc/[0-9]*/cmdline || true; } | while IFS= read -r f; do
    pid=${f#/proc/}; pid=${pid%/cmdline}
    if grep -qsaF containerd-shim "$f"; then echo "$pid"; fi
  done
  return 0
}

# mount points at or under DIR, deepest first.
mounts_under() {
  awk -v d="$dir" '{ m = $5; gsub(/\\040/, " ", m); if (m == d || index(m, d "/") == 1) print length(m) " " m }' /proc/self/mountinfo \
    | sort -rn | cut -d' ' -f2-
}

# kill every container a runc root knows whose bundle is inside DIR (or every one, for our private root).
runc_cleanup() {
  local root=$1 filter=$2 ids id
  [ -d "$root" ] || return 0
  ids=$("$RUNC" --root "$root" list -f json 2>/dev/null | python3 -c '
import json, sys
d = sys.argv[1]
for c in json.load(sys.stdin) or []:
    if not d or c.get("bundle", "").startswith(d + "/"): print(c["id"])
' "$filter" 2>/dev/null) || true
  for id in $ids; do
    "$RUNC" --root "$root" kill --all "$id" KILL >/dev/null 2>&1 || true
    "$RUNC" --root "$root" delete --force "$id" >/dev/null 2>&1 || true
  done
}

do_stop() {
  local pid ns t shims m bridge=""
  [ -f "$envfile" ] && bridge=$(sed -n 's/^NODELET_CRI_BRIDGE=//p' "$envfile")

  # 1. While containerd still answers, kill and delete its tasks (shims exit with them).
  if pid=$(live_pid) && answers; then
    for ns in $(timeout 5 "$CTR" --address "$sock" namespaces ls -q 2>/dev/null || true); do
      for t in $(timeout 5 "$CTR" --address "$sock" -n "$ns" tasks ls -q 2>/dev/null || true); do
        timeout 5 "$CTR" --address "$sock" -n "$ns" tasks kill --all --signal SIGKILL "$t" >/dev/null 2>&1 || true
      done
      for t in $(timeout 5 "$CTR" --address "$sock" -n "$ns" tasks ls -q 2>/dev/null || true); do
        timeout 10 "$CTR" --address "$sock" -n "$ns" tasks delete --force "$t" >/dev/null 2>&1 || true
      done
    done
  fi

  # 2. containerd itself: TERM, wait, KILL.
  if pid=$(live_pid); then
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_gone 10 "$pid"; then
      log "containerd $pid did not exit on TERM; killing"
      kill -KILL "$pid" 2>/dev/null || true
      wait_gone 5 "$pid" || log "containerd $pid still there after KILL"
    fi
  fi
  rm -f "$pidfile"

  # 3. Containers left behind (containerd crashed or was killed): our private runc root, plus any
  #    container in the default runc root whose bundle is in DIR (e.g. made by `ctr run`).
  for m in "$dir"/runc/*; do [ -d "$m" ] && runc_cleanup "$m" ""; done
  for m in /run/containerd/runc/*; do [ -d "$m" ] && runc_cleanup "$m" "$dir"; done

  # 4. Shims of this DIR.
  shims=$(shim_pids)
  if [ -n "$shims" ]; then
    # shellcheck disable=SC2086
    kill -TERM $shims 2>/dev/null || true
    # shellcheck disable=SC2086
    if ! wait_gone 5 $shims; then kill -KILL $shims 2>/dev/null || true; wait_gone 5 $shims || true; fi
  fi

  # 5. Mounts under DIR (rootfs overlays, sandbox /dev/shm, netns bind mounts): lazy unmount, deepest first.
  for _ in 1 2 3; do
    m=$(mounts_under)
    [ -z "$m" ] && break
    while IFS= read -r m; do umount -l "$m" 2>/dev/null || true; done <<<"$m"
  done
  m=$(mounts_under)
  [ -z "$m" ] || log "still mounted under $dir: $m"

  # 6. The CNI bridge (the bridge plugin never deletes it; the veths went with their netns).
  if [ -n "$bridge" ] && ip link show "$bridge" >/dev/null 2>&1; then
    ip link delete "$bridge" 2>/dev/null || log "could not delete bridge $bridge"
  fi
  rm -f "$sock" "$sock.ttrpc"

  # 7. The bridge plugin (isGateway) turns net.ipv4.ip_forward on; put back what start found.
  if [ -f "$dir/ip_forward.orig" ]; then
    sysctl -qw "net.ipv4.ip_forward=$(cat "$dir/ip_forward.orig")" 2>/dev/null || log "could not restore net.ipv4.ip_forward"
    rm -f "$dir/ip_forward.orig"
  fi

  # 8. Empty per-namespace parent cgroups (/k8s.io, made for containers without a cgroup parent): rmdir
  #    only succeeds on a cgroup without children or tasks, so one in use by anyone else stays.
  for m in /sys/fs/cgroup/*/k8s.io /sys/fs/cgroup/k8s.io; do
    if [ -d "$m" ]; then rmdir "$m" 2>/dev/null || true; fi
  done
}

overlay_works() {
  local p=$dir/.overlay-probe ok=1
  rm -rf "$p"; mkdir -p "$p/l" "$p/u" "$p/w" "$p/m"
  if mount -t overlay overlay -o "lowerdir=$p/l,upperdir=$p/u,workdir=$p/w" "$p/m" 2>/dev/null; then
    ok=0; umount "$p/m" 2>/dev/null || umount -l "$p/m" || true
  fi
  rm -rf "$p"
  return $ok
}

write_config() {
  local snap=$1 bridge=$2 subnet=$3
  mkdir -p "$dir/cni" "$dir/runc" "$dir/cni-ipam"
  cat >"$cfg" <<EOF
# Generated by test/cri-env/containerd-env.sh; see test/cri-env/README.md.
version = 2
root = "$dir/root"
state = "$dir/state"
oom_score = 0
# Not needed here (opt would write to /opt/containerd). The v1 runtime cannot go: tasks-service needs it.
disabled_plugins = [
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.internal.v1.opt",
]

[grpc]
  address = "$sock"

[ttrpc]
  address = "$sock.ttrpc"

[debug]
  address = ""
  level = "info"

[metrics]
  address = ""

[plugins]
  [plugins."io.containerd.runtime.v1.linux"]
    runtime_root = "$dir/runc-v1"
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "$PAUSE_REF"
    # No CAP_SYS_RESOURCE in this sandbox: a negative oom_score_adj (pause gets -998) makes runc fail
    # with "can't get final child's PID from pipe". Clamp to containerd's own score instead.
    restrict_oom_score_adj = true
    # Pod network namespaces are bind-mounted under DIR/state instead of /var/run/netns, so that
    # 'stop' finds (and unmounts) them with everything else under DIR.
    netns_mounts_under_state_dir = true
    disable_tcp_service = true
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
    enable_selinux = false
    systemd_cgroup = false
    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "$snap"
      default_runtime_name = "runc"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          BinaryName = "$(command -v "$RUNC")"
          # Private runc state dir: 'stop' can find and kill our containers even if containerd is gone.
          Root = "$dir/runc"
          # cgroupfs driver: no systemd here, and the cgroup hierarchy may be v1/hybrid.
          SystemdCgroup = false
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/usr/lib/cni"
      conf_dir = "$dir/cni"
      max_conf_num = 1
EOF
  # The CRI plugin adds the loopback network itself (from bin_dir/loopback); this is the pod network.
  cat >"$dir/cni/10-nodelet.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "nodelet-e2e",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$bridge",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$dir/cni-ipam",
        "ranges": [[{ "subnet": "$subnet" }]],
        "routes": [{ "dst": "0.0.0.0/0" }]
      }
    }
  ]
}
EOF
}

# ensure_image OUT_BASENAME REF ARGS... : build (cached) and import one image.
ensure_image() {
  local name=$1 ref=$2; shift 2
  local cache=${NODELET_CRI_IMAGE_CACHE:-$dir/images} key tar t0
  mkdir -p "$cache"
  # Cache key: the builder, the busybox binary and the arguments.
  key=$({ cat "$here/build-image.sh"; sha256sum </"${BUSYBOX:-/bin/busybox}"; printf '%s\0' "$ref" "$@"; } | sha256sum | cut -c1-12)
  tar=$cache/$name-$key.tar
  if [ ! -f "$tar" ]; then
    t0=$(now_ms)
    "$here/build-image.sh" "$tar" "$ref" "$@" >/dev/null
    log "built $ref in $(( $(now_ms) - t0 )) ms ($tar)"
  fi
  t0=$(now_ms)
  ctr_ -n "$NS" images import --snapshotter "$snap" "$tar" >/dev/null
  log "imported $ref in $(( $(now_ms) - t0 )) ms"
}

# Starts containerd with DIR's config and waits until it answers with the CRI plugin ok.
launch() {
  local timeout_s=$1 pid t_launch deadline
  # Own session, stdin from /dev/null: survives the caller's shell and its terminal signals.
  setsid "$CONTAINERD" --config "$cfg" </dev/null >>"$logfile" 2>&1 &
  pid=$!
  echo "$pid" >"$pidfile"
  t_launch=$(now_ms)

  deadline=$(( $(now_ms) + timeout_s * 1000 ))
  until answers; do
    if [ ! -d "/proc/$pid" ]; then
      log "containerd exited during start-up; last log lines:"; tail -n 30 "$logfile" >&2; rm -f "$pidfile"; exit 1
    fi
    if [ "$(now_ms)" -ge "$deadline" ]; then
      log "containerd did not answer on $sock within ${timeout_s}s; last log lines:"; tail -n 30 "$logfile" >&2
      do_stop; exit 1
    fi
    sleep 0.05
  done
  log "containerd (pid $pid) answers $(( $(now_ms) - t_launch )) ms after launch"

  if ! ctr_ plugins ls 2>/dev/null | awk '$1 == "io.containerd.grpc.v1" && $2 == "cri" { found = 1; ok = ($NF == "ok") } END { exit !(found && ok) }'; then
    log "the CRI plugin is not ok:"; ctr_ plugins ls >&2 || true; grep -i 'cri' "$logfile" | grep -iE 'error|fail' | tail -n 10 >&2 || true
    do_stop; exit 1
  fi
}

# Restarts only the containerd daemon, keeping its state: shims and containers run on, as on a real
# node when containerd is upgraded or crashes. For the tests of a runtime restart under running pods.
do_restart() {
  local pid timeout_s=${NODELET_CRI_START_TIMEOUT:-30}
  [ -f "$cfg" ] || { log "no config in $dir: run start first"; exit 1; }
  if pid=$(live_pid); then
    kill -TERM "$pid" 2>/dev/null || true
    wait_gone 20 "$pid" || kill -KILL "$pid" 2>/dev/null || true
  fi
  launch "$timeout_s"
  echo "CONTAINERD_ENDPOINT=unix://$sock"
}

do_start() {
  local t_start t_launch pid deadline timeout_s=${NODELET_CRI_START_TIMEOUT:-30}
  t_start=$(now_ms)
  if pid=$(live_pid) && answers; then
    log "already running (pid $pid)"
    echo "CONTAINERD_ENDPOINT=unix://$sock"
    return 0
  fi
  for b in "$CONTAINERD" "$CTR" "$RUNC"; do
    command -v "$b" >/dev/null || { log "$b not found (apt-get install containerd runc)"; exit 1; }
  done
  for b in bridge host-local loopback; do
    [ -x "/usr/lib/cni/$b" ] || { log "/usr/lib/cni/$b missing (apt-get install containernetworking-plugins)"; exit 1; }
  done

  # Leftovers of an earlier run (crash, kill -9): clean, then start from an empty root and state.
  do_stop
  rm -rf --one-file-system "$dir/root" "$dir/state" "$dir/runc" "$dir/cni-ipam"

  snap=${NODELET_CRI_SNAPSHOTTER:-}
  if [ -z "$snap" ]; then
    if overlay_works; then snap=overlayfs; else snap=native; log "overlay mounts fail here; using the native snapshotter"; fi
  fi
  local bridge=${NODELET_CRI_BRIDGE:-nodelet0} subnet=${NODELET_CRI_SUBNET:-10.88.77.0/24}
  write_config "$snap" "$bridge" "$subnet"
  cat >"$envfile" <<EOF
CONTAINERD_ENDPOINT=unix://$sock
NODELET_CRI_SNAPSHOTTER=$snap
NODELET_CRI_BRIDGE=$bridge
NODELET_CRI_SUBNET=$subnet
NODELET_CRI_BUSYBOX_IMAGE=$BUSYBOX_REF
NODELET_CRI_PAUSE_IMAGE=$PAUSE_REF
EOF

  cat /proc/sys/net/ipv4/ip_forward >"$dir/ip_forward.orig"
  [ -f "$logfile" ] && mv -f "$logfile" "$logfile.prev"

  launch "$timeout_s"

  ensure_image busybox "$BUSYBOX_REF" --cmd sh
  ensure_image pause "$PAUSE_REF" --entrypoint /bin/sh -c "$PAUSE_SCRIPT"
  log "ready in $(( $(now_ms) - t_start )) ms (snapshotter $snap, bridge $bridge $subnet)"
  echo "CONTAINERD_ENDPOINT=unix://$sock"
}

case "$action" in
  start) do_start ;;
  stop) do_stop ;;
  restart) do_restart ;;
  status) live_pid >/dev/null && answers ;;
esac
