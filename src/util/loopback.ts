import { BlockList, isIP } from 'node:net';

// 127.0.0.0/8 and ::1; check() also matches the IPv4-mapped form (::ffff:127.0.0.1) and every
// spelling of ::1, which string comparisons miss.
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** Whether `address` is an IP address of this host's loopback interface; false for anything not an IP. */
export function isLoopbackIP(address: string): boolean {
  const family = isIP(address);
  return family !== 0 && LOOPBACK.check(address, family === 4 ? 'ipv4' : 'ipv6');
}
