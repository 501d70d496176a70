/** Reading a daemon's Prometheus endpoint in tests. */
import type { DaemonUnderTest } from './daemon';
import { logged } from './daemon';

/** The value of one series (name with its labels, as exposed) in a Prometheus text exposition, or undefined. */
export function series(text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(name + ' '));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

/** The address a daemon started with `--metrics HOST:0` listens on, from its log. */
export async function metricsAddress(daemon: DaemonUnderTest): Promise<string> {
  return (JSON.parse(await daemon.waitFor(logged('metrics listening'), 'the metrics listener')) as { metrics: string }).metrics;
}

/** One scrape of GET /metrics, as text. */
export async function scrape(address: string): Promise<string> {
  const response = await fetch(`http://${address}/metrics`);
  if (response.status !== 200) throw new Error(`GET /metrics answered ${response.status}`);
  return response.text();
}
