/**
 * The live view of `msgmux stats --watch`, as pure functions of two
 * snapshots and the seconds between them (the caller draws and times).
 *
 *   renderScreen(prev, cur, seconds): string   a full screen for a terminal (redrawn in place)
 *   renderLine(prev, cur, seconds): string     one line per interval, for a pipe or a log
 *
 * `prev` is null for the first snapshot: rates are then shown as "-".
 * Lag is shown against the ring's capacity, and the view names the sink that
 * holds the bus back: the gating sink with the largest lag.
 */
import type { DaemonStats } from '../daemon/daemon';
import { holdingBack, rates, ringFill, type Rates } from '../ops/snapshot';

const BAR_WIDTH = 10;

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) (value /= 1024), unit++;
  return `${unit === 0 ? value : value.toFixed(value >= 10 ? 0 : 1)} ${units[unit]}`;
}

export function formatRate(perSecond: number | undefined): string {
  if (perSecond === undefined) return '-';
  return perSecond >= 10 || perSecond === 0 ? Math.round(perSecond).toString() : perSecond.toFixed(1);
}

const percent = (part: number, whole: number): string => `${whole > 0 ? Math.round((100 * part) / whole) : 0}%`;

/** `[####      ] 40%`: the share of the ring a sink has yet to take. */
export function lagBar(lag: number, capacity: number): string {
  const filled = capacity > 0 ? Math.min(BAR_WIDTH, Math.round((BAR_WIDTH * lag) / capacity)) : 0;
  const shown = lag > 0 ? Math.max(1, filled) : 0; // any lag at all is visible
  return `[${'#'.repeat(shown)}${' '.repeat(BAR_WIDTH - shown)}] ${percent(lag, capacity).padStart(4)}`;
}

function rateOf(prev: DaemonStats | null, cur: DaemonStats, seconds: number): Rates | null {
  return prev === null ? null : rates(prev, cur, seconds);
}

function heldBackBy(cur: DaemonStats): string {
  const sink = holdingBack(cur);
  return sink === null ? 'nobody' : `${sink.path} (${sink.policy}, lag ${formatBytes(sink.lag)})`;
}

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, col) => Math.max(...rows.map((row) => row[col].length)));
  return rows.map((row) => row.map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col]))).join('  ').trimEnd());
}

export function renderScreen(prev: DaemonStats | null, cur: DaemonStats, seconds: number): string {
  const r = rateOf(prev, cur, seconds);
  const { queue, ring } = cur;
  const head = [
    `msgmux   queue ${queue.name}: ${queue.waiting} of ${queue.depth} waiting   ingest ${cur.ingest}   ${prev === null ? 'rates: -' : `rates over ${seconds.toFixed(1)} s`}`,
    `ingested ${cur.ingested}   ${formatRate(r?.ingested)}/s   ring ${formatBytes(ring.capacity)}, ${percent(ringFill(cur), ring.capacity)} in use`,
    `held back by: ${heldBackBy(cur)}`,
    '',
  ];
  const rows = [['SINK', 'KIND', 'POLICY', 'DELIVERED', '/s', 'DROPPED', '/s', 'LAG']];
  for (const sink of cur.sinks) {
    const rate = r?.sinks.get(sink.path);
    rows.push([
      sink.reachable ? sink.path : `${sink.path} (absent)`,
      sink.kind,
      sink.policy,
      String(sink.delivered),
      formatRate(rate?.delivered),
      String(sink.dropped),
      formatRate(rate?.dropped),
      lagBar(sink.lag, ring.capacity),
    ]);
  }
  const body = cur.sinks.length > 0 ? table(rows) : ['no sinks: messages stay in the queue'];
  return [...head, ...body].join('\n');
}

export function renderLine(prev: DaemonStats | null, cur: DaemonStats, seconds: number): string {
  const r = rateOf(prev, cur, seconds);
  const parts = [
    `ingested ${cur.ingested} (${formatRate(r?.ingested)}/s) waiting ${cur.queue.waiting} ring ${percent(ringFill(cur), cur.ring.capacity)}`,
    ...cur.sinks.map((sink) => {
      const rate = r?.sinks.get(sink.path);
      const absent = sink.reachable ? '' : ' absent';
      return `${sink.path}${absent} ${sink.delivered} (${formatRate(rate?.delivered)}/s) dropped ${sink.dropped} (${formatRate(rate?.dropped)}/s) lag ${percent(sink.lag, cur.ring.capacity)}`;
    }),
  ];
  const held = holdingBack(cur);
  if (held !== null) parts.push(`held back by ${held.path}`);
  return parts.join(' | ');
}
