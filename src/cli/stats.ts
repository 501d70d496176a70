/** `msgmux stats`: the daemon's counters, as a table or JSON, once or every second. */
import { setTimeout as sleep } from 'node:timers/promises';
import { controlCall } from '../control-client';
import type { DaemonStats } from '../daemon/daemon';

function table(stats: DaemonStats): string {
  const { queue } = stats;
  const lines = [
    `ingested ${stats.ingested}   queue ${queue.name} depth ${queue.depth} waiting ${queue.waiting}   ring ${stats.ring.capacity} B`,
    ['sink', 'kind', 'policy', 'delivered', 'dropped', 'lag (B)'].join('\t'),
  ];
  for (const sink of stats.sinks) {
    const name = sink.reachable ? sink.path : `${sink.path} (absent)`;
    lines.push([name, sink.kind, sink.policy, sink.delivered, sink.dropped, sink.lag].join('\t'));
  }
  return lines.join('\n');
}

export async function stats(options: { control: string; json: boolean; watch: boolean }): Promise<number> {
  for (;;) {
    const { ok: _ok, op: _op, ...reply } = await controlCall(options.control, { op: 'stats' });
    const current = reply as unknown as DaemonStats;
    process.stdout.write((options.json ? JSON.stringify(current) : table(current)) + '\n');
    if (!options.watch) return 0;
    await sleep(1000);
  }
}
