/**
 * The metrics listener's address: `PORT`, `HOST:PORT` or `[IPv6]:PORT`.
 *
 *   parseListenAddress('9464')            -> { host: '127.0.0.1', port: 9464 }   loopback when only a port is given
 *   parseListenAddress('0.0.0.0:9464')    -> { host: '0.0.0.0', port: 9464 }
 *   parseListenAddress('[::1]:9464')      -> { host: '::1', port: 9464 }
 *   parseListenAddress('x')               -> { problem: 'must be PORT, HOST:PORT or [IPV6]:PORT ...' }
 *   formatListenAddress({ host, port })   -> '127.0.0.1:9464' or '[::1]:9464'
 *
 * HOST is an IP literal or `localhost`: a name that needs DNS would make the
 * daemon's start depend on a resolver. Port 0 asks the kernel for a free port
 * (the daemon logs the one it got).
 */
import { isIP } from 'node:net';

export interface ListenAddress {
  host: string;
  port: number;
}

export const LOOPBACK = '127.0.0.1';
const SHAPE = 'must be PORT, HOST:PORT or [IPV6]:PORT with HOST an IP address or localhost';

export function parseListenAddress(value: string): ListenAddress | { problem: string } {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]:|([^:[\]]+):)?(\d{1,5})$/.exec(value.trim());
  if (!match) return { problem: `${SHAPE} (got ${JSON.stringify(value)})` };
  const [, v6, other, digits] = match;
  const port = Number(digits);
  if (port > 65535) return { problem: `has port ${port}; a port is 0 … 65535` };
  const host = v6 ?? other ?? LOOPBACK;
  if (v6 !== undefined && isIP(v6) !== 6) return { problem: `has ${JSON.stringify(v6)} in brackets, which is not an IPv6 address` };
  if (v6 === undefined && host !== 'localhost' && isIP(host) !== 4) {
    return { problem: `has host ${JSON.stringify(host)}, which is not an IPv4 address or localhost (write IPv6 as [::1]:PORT)` };
  }
  return { host, port };
}

export function formatListenAddress({ host, port }: ListenAddress): string {
  return isIP(host) === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}
