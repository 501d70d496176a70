/**
 * The opt-in HTTP listener for Prometheus: `GET /metrics` answers with the
 * daemon's metrics; anything else gets 404 (or 405 for another method).
 *
 *   const server = await listenMetrics({ host, port }, metrics, '--metrics');
 *   server.address                   the address bound (port 0 becomes the port the kernel chose)
 *   await server.close()
 *
 * A listen failure (port in use, an address this host does not have, a
 * privileged port) throws ERR_MSGMUX_METRICS naming the field it came from.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ErrorCode, MsgmuxError } from '../errors';
import { formatListenAddress, type ListenAddress } from './listen-address';
import type { Metrics } from './metrics';

export interface MetricsServer {
  address: ListenAddress;
  close(): Promise<void>;
}

const WHY: Record<string, string> = {
  EADDRINUSE: 'the port is in use by another program; choose another port',
  EADDRNOTAVAIL: 'the host is not an address of this machine',
  EACCES: 'permission denied (a port below 1024 needs privileges)',
};

export async function listenMetrics(address: ListenAddress, metrics: Metrics, field: string): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (url !== '/metrics') return void res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: metrics are at /metrics\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return void res.writeHead(405, { allow: 'GET, HEAD' }).end();
    metrics.scrape().then(
      (body) => res.writeHead(200, { 'content-type': metrics.contentType }).end(req.method === 'HEAD' ? undefined : body),
      (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const why = WHY[err.code ?? ''] ?? err.message;
      reject(new MsgmuxError(ErrorCode.METRICS, `${field} ${formatListenAddress(address)}: cannot listen: ${why} (${err.code})`, { cause: err }));
    });
    server.listen(address.port, address.host, () => resolve());
  });
  // Scrapes must not keep a stopping daemon alive.
  server.unref();
  const bound = server.address() as AddressInfo;
  return {
    address: { host: address.host, port: bound.port },
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
