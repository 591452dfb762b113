import { readFileSync } from 'node:fs';

// include/uapi/linux/capability.h, by number.
const CAPABILITY_NAMES = [
  'CHOWN',
  'DAC_OVERRIDE',
  'DAC_READ_SEARCH',
  'FOWNER',
  'FSETID',
  'KILL',
  'SETGID',
  'SETUID',
  'SETPCAP',
  'LINUX_IMMUTABLE',
  'NET_BIND_SERVICE',
  'NET_BROADCAST',
  'NET_ADMIN',
  'NET_RAW',
  'IPC_LOCK',
  'IPC_OWNER',
  'SYS_MODULE',
  'SYS_RAWIO',
  'SYS_CHROOT',
  'SYS_PTRACE',
  'SYS_PACCT',
  'SYS_ADMIN',
  'SYS_BOOT',
  'SYS_NICE',
  'SYS_RESOURCE',
  'SYS_TIME',
  'SYS_TTY_CONFIG',
  'MKNOD',
  'LEASE',
  'AUDIT_WRITE',
  'AUDIT_CONTROL',
  'SETFCAP',
  'MAC_OVERRIDE',
  'MAC_ADMIN',
  'SYSLOG',
  'WAKE_ALARM',
  'BLOCK_SUSPEND',
  'AUDIT_READ',
  'PERFMON',
  'BPF',
  'CHECKPOINT_RESTORE',
] as const;

/**
 * A capability as a pod spells it (`NET_RAW`, `CAP_NET_RAW`, `net_raw`) in its canonical form without
 * the prefix (`NET_RAW`), `ALL`, or undefined for a name Linux does not have. containerd accepts both
 * spellings too.
 */
export function canonicalCapability(name: string): string | undefined {
  const upper = name.trim().toUpperCase();
  if (upper === 'ALL') return 'ALL';
  const bare = upper.startsWith('CAP_') ? upper.slice(4) : upper;
  return (CAPABILITY_NAMES as readonly string[]).includes(bare) ? bare : undefined;
}

/**
 * The capabilities this process holds in its effective set (/proc/self/status CapEff), as canonical
 * names. bwrap cannot give a container a capability its caller lacks, and when asked to it keeps every
 * capability instead (capset fails with EPERM and bwrap ignores that for root): so an `add` must be
 * checked against this first.
 */
export function ownCapabilities(status = readProcStatus()): Set<string> {
  const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(status)?.[1];
  const mask = hex ? BigInt(`0x${hex}`) : 0n;
  return new Set(CAPABILITY_NAMES.filter((_, i) => (mask >> BigInt(i)) & 1n));
}

function readProcStatus(): string {
  try {
    return readFileSync('/proc/self/status', 'utf8');
  } catch {
    return '';
  }
}
