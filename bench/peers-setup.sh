#!/usr/bin/env bash
# The benchmark's peers from Debian (`npm run bench:peers-setup`): supervisord, the process-supervisor
# baseline of scenario 2, and podman, whose `kube play` scenario 6 compares with. `npm run bench` itself
# installs nothing and reports a peer that is missing as "not measured". Needs root (apt-get).
set -euo pipefail

need=()
command -v supervisord >/dev/null || need+=(supervisor)
# podman's recommended packages include catatonit, from which podman builds its pause image locally
# (no registry needed for the infra containers of kube play): keep the recommends.
command -v podman >/dev/null || need+=(podman)

if [ ${#need[@]} -eq 0 ]; then
  echo "bench:peers-setup: supervisord and podman are already installed"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "bench:peers-setup: needs root: apt-get install ${need[*]}" >&2
  exit 1
fi

apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"

# Debian's supervisor package enables a system-wide supervisord. The bench runs its own, with its own
# config in a temp dir; a second, idle one would only be background load during the measurements.
if [[ " ${need[*]} " == *" supervisor "* ]] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null; then
  systemctl disable --now supervisor.service || true
fi

echo "bench:peers-setup: installed ${need[*]}"
supervisord --version | sed 's/^/supervisord /'
podman --version
