/**
 * `msgmux stats`: the daemon's counters, as a table or JSON, once or every
 * interval. With --watch on a terminal the view is redrawn in place (the
 * terminal's alternate screen, restored on exit); piped, it prints one line
 * per interval. Rates are over the time measured between two snapshots.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { controlCall } from '../control-client';
import type { DaemonStats } from '../daemon/daemon';
import { renderLine, renderScreen } from './stats-view';

const ANSI = {
  enter: '\x1b[?1049h\x1b[?25l', // alternate screen, cursor hidden
  leave: '\x1b[?25h\x1b[?1049l',
  home: '\x1b[H\x1b[2J', // cursor home, clear screen
};

export interface StatsOptions {
  control: string;
  json: boolean;
  watch: boolean;
  intervalMs: number;
}

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
  // beyond one host
  const nats = stats.nats;
  if (nats?.sink) {
    const name = `nats:${nats.sink.subject}${nats.connected ? '' : ' (disconnected)'}`;
    lines.push([name, 'nats', nats.sink.policy, nats.sink.delivered, nats.sink.dropped, nats.sink.lag].join('\t'));
  }
  if (stats.sources?.length) {
    lines.push(['source', 'kind', 'received', 'too large', 'dropped'].join('\t'));
    for (const source of stats.sources) lines.push([source.address, source.kind, source.received, source.tooLarge, source.dropped].join('\t'));
  }
  if (nats) lines.push(`nats ${nats.url} ${nats.connected ? 'connected' : 'disconnected (reconnecting)'}`);
  return lines.join('\n');
}

async function snapshot(control: string): Promise<DaemonStats> {
  const { ok: _ok, op: _op, ...reply } = await controlCall(control, { op: 'stats' });
  return reply as unknown as DaemonStats;
}

export async function stats(options: StatsOptions, out: NodeJS.WriteStream = process.stdout): Promise<number> {
  if (!options.watch) {
    const current = await snapshot(options.control);
    out.write((options.json ? JSON.stringify(current) : table(current)) + '\n');
    return 0;
  }
  const live = out.isTTY && !options.json;
  const interrupted = new AbortController();
  const stop = (): void => interrupted.abort();
  const signals = ['SIGINT', 'SIGTERM'] as const;
  for (const signal of signals) process.once(signal, stop);
  if (live) out.write(ANSI.enter);
  try {
    let prev: { stats: DaemonStats; at: number } | null = null;
    while (!interrupted.signal.aborted) {
      const current = await snapshot(options.control);
      const at = performance.now();
      const seconds = prev === null ? 0 : (at - prev.at) / 1000;
      if (options.json) out.write(JSON.stringify(current) + '\n');
      else if (live) out.write(ANSI.home + renderScreen(prev?.stats ?? null, current, seconds) + '\n');
      else out.write(renderLine(prev?.stats ?? null, current, seconds) + '\n');
      prev = { stats: current, at };
      await sleep(options.intervalMs, undefined, { signal: interrupted.signal }).catch(() => undefined);
    }
    return 0;
  } finally {
    if (live) out.write(ANSI.leave);
    for (const signal of signals) process.removeListener(signal, stop);
  }
}
