/** The `msgmux bench` flags: their help text, their util.parseArgs options, and their checks. */
import { DEFAULT_QUEUE_DEPTH, DEFAULT_READERS, DEFAULT_SIZES, DEFAULT_SUBSCRIBERS, MAX_PUBLISHERS, MAX_QUEUE_DEPTH } from '../bench/plan';

export interface BenchFlags {
  quick: boolean;
  systems: string[];
  subscribers?: number[];
  readers?: number[];
  sizes?: number[];
  publishers?: number;
  queueDepth?: number;
  rounds?: number;
  count?: number;
  json?: string;
  svg?: string;
}

export const BENCH_USAGE = `usage: msgmux bench [options]
Measure local fanout: msgmux against direct datagrams, a C reference broker,
UDP multicast, Redis, NATS and ZeroMQ (Node and C clients), and the ring
against BroadcastChannel and MessagePort. Missing peers are skipped with the reason.
  --quick               a small matrix, under a minute
  --systems LIST        e.g. msgmux-node,redis,ring (a family name selects all its clients)
  --subscribers LIST    subscriber processes (default ${DEFAULT_SUBSCRIBERS.join(',')})
  --readers LIST        reader threads for in-process systems (default ${DEFAULT_READERS.join(',')})
  --sizes LIST          payload bytes, 16 … 65000 (default ${DEFAULT_SIZES.join(',')})
  --publishers N        publisher processes per group, 1 … ${MAX_PUBLISHERS}, each sending its share
                        (default 1; systems with one publisher are skipped, refused if named)
  --queue-depth N       msgmux's and the C reference's POSIX queue depth, 1 … ${MAX_QUEUE_DEPTH} (default
                        ${DEFAULT_QUEUE_DEPTH}; past fs.mqueue.msg_max only as root, else capped there)
  --rounds N            rounds, interleaved across systems (default 2, quick 1)
  --count N             messages per measured round (default 20000, quick 5000)
  --json FILE           write the report as JSON
  --svg FILE            write a chart of the results as SVG`;

const str = { type: 'string' } as const;
export const BENCH_OPTIONS = {
  quick: { type: 'boolean' }, systems: str, subscribers: str, readers: str, sizes: str, publishers: str, 'queue-depth': str, rounds: str, count: str, json: str, svg: str,
} as const;

export function parseBenchFlags(v: Record<string, string | boolean | undefined>, fail: (message: string) => never): BenchFlags {
  const list = (name: string, min: number, max: number): number[] | undefined => {
    const raw = v[name];
    if (typeof raw !== 'string') return undefined;
    const values = raw.split(',').map((x) => (/^\d+$/.test(x.trim()) ? Number(x) : NaN));
    if (values.some((n) => !(n >= min && n <= max))) fail(`--${name} must be a comma-separated list of integers from ${min} to ${max} (got ${JSON.stringify(raw)})`);
    return values;
  };
  const one = (name: string, min: number, max: number): number | undefined => {
    const raw = v[name];
    if (typeof raw !== 'string') return undefined;
    const value = /^\d+$/.test(raw.trim()) ? Number(raw) : NaN;
    if (!(value >= min && value <= max)) fail(`--${name} must be an integer from ${min} to ${max} (got ${JSON.stringify(raw)})`);
    return value;
  };
  const text = (name: string): string | undefined => (typeof v[name] === 'string' ? (v[name]) : undefined);
  return Object.fromEntries(Object.entries({
    quick: v.quick === true,
    systems: (text('systems') ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    subscribers: list('subscribers', 1, 256),
    readers: list('readers', 1, 64),
    sizes: list('sizes', 16, 65_000),
    publishers: one('publishers', 1, MAX_PUBLISHERS),
    queueDepth: one('queue-depth', 1, MAX_QUEUE_DEPTH),
    rounds: one('rounds', 1, 100),
    count: one('count', 1, 100_000_000),
    json: text('json'),
    svg: text('svg'),
  }).filter(([, value]) => value !== undefined)) as unknown as BenchFlags;
}
