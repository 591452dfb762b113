#!/usr/bin/env bash
# Build a minimal OCI image archive from the host's static busybox, with no registry and no network.
#
# usage: build-image.sh OUT.tar REF [--entrypoint ARG...] [--cmd ARG...]
#   REF        full image reference, e.g. nodelet.test/busybox:1 (stored as the image name on import)
#   arguments after REF that come before any flag are taken as --cmd.
# env: BUSYBOX (default: /bin/busybox, must be statically linked), IMAGE_ARCH (default: from uname -m)
#
# The archive is an OCI image layout (oci-layout, index.json, blobs/sha256/*) packed as a plain tar, which
# `ctr -n k8s.io images import OUT.tar` imports under REF. It is reproducible: the same inputs give the
# same digests (fixed mtimes, uids, ordering and gzip header).
set -euo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 OUT.tar REF [--entrypoint ARG...] [--cmd ARG...]" >&2
  exit 2
fi
out=$1 ref=$2
shift 2
busybox=${BUSYBOX:-/bin/busybox}
if [ ! -x "$busybox" ]; then
  echo "build-image: $busybox not found (apt-get install busybox-static)" >&2
  exit 1
fi
if ldd "$busybox" >/dev/null 2>&1; then
  echo "build-image: $busybox is dynamically linked; a static busybox is needed (busybox-static)" >&2
  exit 1
fi
case "${IMAGE_ARCH:-$(uname -m)}" in
  x86_64|amd64) arch=amd64 ;;
  aarch64|arm64) arch=arm64 ;;
  *) arch=${IMAGE_ARCH:-$(uname -m)} ;;
esac

# Applets to link in /bin: everything this busybox has, one per line.
applets=$("$busybox" --list)

exec python3 - "$out" "$ref" "$busybox" "$arch" "$applets" "$@" <<'PY'
import gzip, hashlib, io, json, os, sys, tarfile

out, ref, busybox, arch, applets = sys.argv[1:6]
rest = sys.argv[6:]
entrypoint, cmd, cur = None, None, "cmd"
for a in rest:
    if a == "--entrypoint":
        cur, entrypoint = "entrypoint", (entrypoint or [])
    elif a == "--cmd":
        cur, cmd = "cmd", (cmd or [])
    elif cur == "entrypoint":
        entrypoint.append(a)
    else:
        cmd = (cmd or []) + [a]

EPOCH = 0  # fixed timestamps: reproducible digests

def add_dir(tf, name, mode=0o755):
    ti = tarfile.TarInfo(name); ti.type = tarfile.DIRTYPE; ti.mode = mode; ti.mtime = EPOCH
    tf.addfile(ti)

def add_file(tf, name, data, mode=0o644):
    ti = tarfile.TarInfo(name); ti.size = len(data); ti.mode = mode; ti.mtime = EPOCH
    tf.addfile(ti, io.BytesIO(data))

def add_symlink(tf, name, target):
    ti = tarfile.TarInfo(name); ti.type = tarfile.SYMTYPE; ti.linkname = target; ti.mode = 0o777; ti.mtime = EPOCH
    tf.addfile(ti)

# --- the single layer ---
raw = io.BytesIO()
with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tf:
    for d in ["bin", "dev", "etc", "home", "proc", "root", "sbin", "sys", "usr", "usr/bin", "usr/sbin", "var", "var/www"]:
        add_dir(tf, d, 0o700 if d == "root" else 0o755)
    add_dir(tf, "tmp", 0o1777)
    add_dir(tf, "var/tmp", 0o1777)
    with open(busybox, "rb") as f:
        add_file(tf, "bin/busybox", f.read(), 0o755)
    for a in sorted(set(applets.split())):
        if a in ("busybox",) or "/" in a:
            continue
        add_symlink(tf, "bin/" + a, "busybox")
    add_file(tf, "etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
    add_file(tf, "etc/group", b"root:x:0:\nnogroup:x:65534:\nnobody:x:65534:\n")
    add_file(tf, "etc/hosts", b"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
    add_file(tf, "etc/nsswitch.conf", b"hosts: files dns\n")
layer_tar = raw.getvalue()
gz = io.BytesIO()
with gzip.GzipFile(fileobj=gz, mode="wb", mtime=0, compresslevel=6, filename="") as g:
    g.write(layer_tar)
layer_gz = gz.getvalue()

def sha(b): return "sha256:" + hashlib.sha256(b).hexdigest()

config = {
    "architecture": arch,
    "os": "linux",
    "created": "1970-01-01T00:00:00Z",
    "config": {
        "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        "WorkingDir": "/",
    },
    "rootfs": {"type": "layers", "diff_ids": [sha(layer_tar)]},
    "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "test/cri-env/build-image.sh " + ref}],
}
if entrypoint is not None: config["config"]["Entrypoint"] = entrypoint
if cmd is not None: config["config"]["Cmd"] = cmd
config_b = json.dumps(config, sort_keys=True, separators=(",", ":")).encode()

manifest = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha(config_b), "size": len(config_b)},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": sha(layer_gz), "size": len(layer_gz)}],
}
manifest_b = json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()

index = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.index.v1+json",
    "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": sha(manifest_b), "size": len(manifest_b),
        "platform": {"architecture": arch, "os": "linux"},
        # containerd's importer takes io.containerd.image.name as-is; the OCI ref.name is kept too for
        # other tools (ctr passes a ref.name that contains '/' or ':' through unchanged).
        "annotations": {"io.containerd.image.name": ref, "org.opencontainers.image.ref.name": ref},
    }],
}
index_b = json.dumps(index, sort_keys=True, separators=(",", ":")).encode()

tmp = f"{out}.tmp.{os.getpid()}"  # unique: concurrent builds into one cache must not clobber each other
with open(tmp, "wb") as f, tarfile.open(fileobj=f, mode="w", format=tarfile.PAX_FORMAT) as tf:
    add_file(tf, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
    add_file(tf, "index.json", index_b)
    add_dir(tf, "blobs"); add_dir(tf, "blobs/sha256")
    for b in (layer_gz, config_b, manifest_b):
        add_file(tf, "blobs/sha256/" + sha(b)[7:], b)
os.replace(tmp, out)
print(f"{out}: {ref} manifest {sha(manifest_b)} ({len(layer_gz)} bytes layer)")
PY
