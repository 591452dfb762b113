import { lstat, readlink, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { NodeletError } from '../errors.js';
import { ManifestErrorCode } from '../manifest/index.js';

/**
 * The rules of the manifest audit (DESIGN §2, issue 11; sshd's StrictModes): whoever can write a
 * manifest, or a directory on the way to it, runs processes as nodelet's user, so when that user is
 * root every one of them must belong to root and be writable by nobody else.
 */
export interface ManifestAuditPolicy {
  /** Whether nodelet runs as root; the audit applies only then. */
  runningAsRoot: boolean;
  /** The uid that must own manifests and their directories: 0. Tests inject their own to exercise the checks as any user. */
  ownerUid: number;
  /** `--allow-insecure-manifests`: no audit at all. */
  allowInsecure: boolean;
}

/** The audit policy of this process: on when it runs as root, unless `allowInsecure`. */
export function processAuditPolicy(allowInsecure: boolean): ManifestAuditPolicy {
  return { runningAsRoot: process.getuid?.() === 0, ownerUid: 0, allowInsecure };
}

/** Whether `policy` audits anything at all. */
export function auditActive(policy: ManifestAuditPolicy): boolean {
  return policy.runningAsRoot && !policy.allowInsecure;
}

/** The part of `fs.Stats` the audit looks at. */
export interface AuditStat {
  mode: number;
  uid: number;
}

/** `0664`, `1777`: the permission bits of `mode` as chmod takes them. */
export function octalMode(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

/**
 * The audit of one path already stat-ed: a NodeletError (code `InsecureManifest`) naming the path, its
 * mode, its owner and the fix when it is writable by group or others or not owned by
 * `policy.ownerUid`, else undefined. `what` says what the path is to the manifest (`manifest`,
 * `directory of the manifests`, `target of the symlink /etc/kubernetes/manifests/etcd.yaml`).
 */
export function checkManifestPath(target: string, st: AuditStat, what: string, policy: ManifestAuditPolicy): NodeletError | undefined {
  if (!auditActive(policy)) return undefined;
  const writableBy = [st.mode & 0o020 ? 'group' : '', st.mode & 0o002 ? 'others' : ''].filter(Boolean);
  const badOwner = st.uid !== policy.ownerUid;
  if (writableBy.length === 0 && !badOwner) return undefined;
  const owner = policy.ownerUid === 0 ? 'root' : String(policy.ownerUid);
  const problems: string[] = [];
  const fixes: string[] = [];
  if (badOwner) {
    problems.push(`owned by uid ${st.uid}, not ${policy.ownerUid === 0 ? 'root' : `uid ${policy.ownerUid}`}`);
    fixes.push(`chown ${owner} ${shellQuote(target)}`);
  }
  if (writableBy.length > 0) {
    problems.push(`writable by ${writableBy.join(' and ')}`);
    fixes.push(`chmod go-w ${shellQuote(target)}`);
  }
  const mode = octalMode(st.mode);
  const fix = fixes.join(' && ');
  return new NodeletError(
    ManifestErrorCode.InsecureManifest,
    `insecure ${what}: ${problems.join(' and ')} (mode ${mode}, owner uid ${st.uid}); whoever can change it runs processes as root, so it is refused; fix: ${fix}`,
    { details: { file: target, mode, uid: st.uid, fix } },
  );
}

/** Symlinks followed before giving up (the kernel's limit); the read that follows reports the loop. */
const MAX_SYMLINKS = 40;

/**
 * Audits a manifest directory (the static pod path): its real path must pass
 * {@link checkManifestPath}. Resolves to the problem, or undefined (also when the directory is gone:
 * a missing path is not an error of the audit).
 */
export async function auditManifestDir(dir: string, policy: ManifestAuditPolicy): Promise<NodeletError | undefined> {
  if (!auditActive(policy)) return undefined;
  try {
    const real = await realpath(dir);
    return checkManifestPath(real, await stat(real), real === path.resolve(dir) ? 'manifest directory' : `manifest directory (the target of ${dir})`, policy);
  } catch {
    return undefined;
  }
}

/** A directory already audited (the static pod directory, once per re-list): as given, and its real path. */
export interface AuditedDir {
  path: string;
  real: string;
}

/**
 * Audits one manifest file: the file itself and, through every symlink on the way (a link to a file
 * elsewhere, the `..data` pattern of ConfigMap volumes), each link's directory and the final real
 * file, since whoever can write any of them decides what is read. `auditedDir` is not checked again,
 * so a plain file in it costs one `lstat`. Resolves to the first problem, or undefined; a path that
 * cannot be resolved is left to the read to report.
 */
export async function auditManifestFile(
  file: string,
  policy: ManifestAuditPolicy,
  auditedDir?: AuditedDir,
): Promise<NodeletError | undefined> {
  if (!auditActive(policy)) return undefined;
  const seen = new Set(auditedDir ? [auditedDir.real] : []);
  const start = path.resolve(file);
  let p = start;
  let followed = false;
  try {
    for (let hop = 0; hop <= MAX_SYMLINKS; hop++) {
      // The directory a link or file sits in, resolved: writing it replaces the entry.
      const parent = path.dirname(p);
      const dir = auditedDir && parent === path.resolve(auditedDir.path) ? auditedDir.real : await realpath(parent);
      p = path.join(dir, path.basename(p));
      if (!seen.has(dir)) {
        seen.add(dir);
        const problem = checkManifestPath(dir, await stat(dir), `directory of the manifest ${start}`, policy);
        if (problem) return problem;
      }
      const st = await lstat(p);
      if (!st.isSymbolicLink()) return checkManifestPath(p, st, followed ? `manifest (the target of the symlink ${start})` : 'manifest', policy);
      p = path.resolve(dir, await readlink(p));
      followed = true;
    }
  } catch {
    // Vanished or unreadable: the reader reports it as it reports any unreadable manifest.
  }
  return undefined;
}

// A path as a shell word: left bare when it has nothing the shell would read differently.
function shellQuote(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}
