import { readFileSync } from 'node:fs';
import type { ContainerSecurity } from '../../types.js';

/** Who a container's command runs as; an undefined field keeps the runtime's own. */
export interface Identity {
  uid?: number;
  gid?: number;
  /** Supplementary groups, the primary gid first. */
  groups: number[];
}

/** The uid and gid the runtime itself runs as: what a container without runAsUser/runAsGroup gets. */
export interface Self {
  uid: number;
  gid: number;
}

/**
 * The identity a container asks for, or undefined when it asks for none (it then runs as the runtime
 * does). Without runAsGroup, a runAsUser takes its primary group from the host's /etc/passwd, else 0,
 * as containerd does with the image's /etc/passwd (the host's root is the container's here).
 */
export function containerIdentity(sec: ContainerSecurity | undefined, self: Self, passwdGid: (uid: number) => number | undefined = hostPasswdGid): Identity | undefined {
  if (!sec) return undefined;
  const supplemental = sec.supplementalGroups ?? [];
  if (sec.runAsUser === undefined && sec.runAsGroup === undefined && supplemental.length === 0) return undefined;
  const gid = sec.runAsGroup ?? (sec.runAsUser !== undefined ? (passwdGid(sec.runAsUser) ?? 0) : undefined);
  return { uid: sec.runAsUser, gid, groups: [...new Set([gid ?? self.gid, ...supplemental])] };
}

/** Whether a container with this identity runs as uid 0. */
export function runsAsRoot(identity: Identity | undefined, self: Self): boolean {
  return (identity?.uid ?? self.uid) === 0;
}

/** What setpriv applies just before exec'ing the command. */
export interface SetprivOptions {
  identity?: Identity;
  /** Capabilities to remove from the bounding set (canonical names, or `ALL`): for non-root commands. */
  boundingDrop: string[];
  noNewPrivs: boolean;
}

/**
 * `setpriv … --` (util-linux), or [] when there is nothing to apply. setpriv changes the bounding set
 * while still root, then gid, groups and uid: changing to a non-zero uid clears the permitted,
 * effective and ambient capabilities (capabilities(7)), so a non-root container holds none.
 */
export function setprivArgs(setpriv: string, o: SetprivOptions): string[] {
  const args: string[] = [];
  const id = o.identity;
  if (id) {
    if (id.uid !== undefined) args.push(`--reuid=${id.uid}`);
    if (id.gid !== undefined) args.push(`--regid=${id.gid}`);
    // setpriv refuses a gid change without saying what becomes of the groups; an explicit list also
    // clears the runtime's own (root's) supplementary groups.
    args.push(id.groups.length > 0 ? `--groups=${id.groups.join(',')}` : '--clear-groups');
  }
  if (o.boundingDrop.length > 0) {
    args.push(`--bounding-set=${o.boundingDrop.map((c) => `-${c.toLowerCase()}`).join(',')}`);
  }
  if (o.noNewPrivs) args.push('--no-new-privs');
  return args.length === 0 ? [] : [setpriv, ...args, '--'];
}

/** The primary gid of `uid` in the host's /etc/passwd, or undefined when it has no entry. */
export function hostPasswdGid(uid: number, passwd = readPasswd()): number | undefined {
  for (const line of passwd.split('\n')) {
    const f = line.split(':');
    if (f.length >= 4 && f[2] === String(uid) && /^\d+$/.test(f[3]!)) return Number(f[3]);
  }
  return undefined;
}

function readPasswd(): string {
  try {
    return readFileSync('/etc/passwd', 'utf8');
  } catch {
    return '';
  }
}
