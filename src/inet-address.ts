/**
 * IPv4 address syntax for the network legs (multicast sinks and sources), in one place.
 *
 *   parseIp4('10.0.0.1'): Uint8Array | null               4 bytes, network order
 *   parseGroupAddress('225.4.5.6:5000'): { group, port } | { problem }
 *   ip4Problem('10.0.0.1'): string | null                  why it is not an IPv4 address
 */

export interface GroupAddress {
  /** Dotted quad, as given. */
  group: string;
  port: number;
}

export function parseIp4(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return null;
  return Uint8Array.from(parts.map(Number));
}

export function ip4Problem(text: string): string | null {
  return parseIp4(text) ? null : 'must be an IPv4 address like 192.168.1.10';
}

/** `GROUP:PORT` with GROUP in 224.0.0.0/4 and PORT 1 … 65535. */
export function parseGroupAddress(text: string): GroupAddress | { problem: string } {
  const match = /^([\d.]+):(\d{1,5})$/.exec(text);
  const ip = match ? parseIp4(match[1]) : null;
  if (!match || !ip) return { problem: 'must be a multicast group and port like 225.4.5.6:5000' };
  if (ip[0] < 224 || ip[0] > 239) return { problem: 'must be a multicast group in 224.0.0.0 … 239.255.255.255, with a port' };
  const port = Number(match[2]);
  if (port < 1 || port > 65535) return { problem: 'must have a port from 1 to 65535' };
  return { group: match[1], port };
}
