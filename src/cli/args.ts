/**
 * The command line, parsed and checked before anything runs.
 *
 *   parseCommandLine(argv: string[]): Command     argv without node and the script
 *   usage(command?: CommandName): string          help text for one command, or all
 *
 * Bad input throws MsgmuxError ERR_MSGMUX_USAGE naming the flag. Only the
 * shape of each value is checked here (a number, a size, one of a list);
 * `start` flags go on to resolveConfig, which knows the ranges and how they
 * combine with the config file.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ErrorCode, MsgmuxError } from '../errors';
import { BENCH_OPTIONS, BENCH_USAGE, parseBenchFlags, type BenchFlags } from './bench-args';
import { DEFAULT_CONFIG, LOG_LEVELS, parseSize, type ConfigInput, type SinkInput } from '../config';
import { NATS_SINK_POLICIES } from '../network-config';
import { SINK_POLICIES, type SinkPolicy } from '../sink/spec';

export const COMMANDS = ['start', 'pub', 'sub', 'stats', 'bench'] as const;
export type CommandName = (typeof COMMANDS)[number];
export const SUB_FORMATS = ['text', 'hex', 'json'] as const;
export type SubFormat = (typeof SUB_FORMATS)[number];

export type Command =
  | { command: 'help'; text: string }
  | { command: 'version' }
  | { command: 'start'; configFile?: string; flags: ConfigInput }
  | { command: 'pub'; queue: string; priority: number; messages: string[] }
  | { command: 'sub'; control: string; name?: string; policy?: SinkPolicy; count?: number; format: SubFormat; transport?: 'shm' }
  | { command: 'stats'; control: string; json: boolean; watch: boolean; intervalMs: number }
  | ({ command: 'bench' } & BenchFlags);

/** `stats --watch` refreshes this often unless --interval says otherwise. */
export const DEFAULT_WATCH_INTERVAL_MS = 1000;

const USAGE: Record<CommandName, string> = {
  start: `usage: msgmux start [options]
Run the daemon: every message sent to the queue goes to every sink.
  --config FILE         JSON config file; flags override it
  --queue NAME          POSIX queue to ingest from (default ${DEFAULT_CONFIG.queue})
  --control ADDR        control socket: @name, /path (default ${DEFAULT_CONFIG.control})
  --sink PATH           static datagram socket sink (repeatable)
  --mq-sink NAME        POSIX queue sink (repeatable)
  --ring-size BYTES     ring size, a power of two: 64K … 1G (default 8M)
  --max-message BYTES   largest message (default ${DEFAULT_CONFIG.maxMessage})
  --queue-depth N       queue depth (default ${DEFAULT_CONFIG.queueDepth}; capped by the kernel)
  --policy P            default sink policy: block, drop or evict (default ${DEFAULT_CONFIG.policy})
  --metrics ADDR        serve Prometheus metrics at http://ADDR/metrics: HOST:PORT, or a port (loopback)
  --queue-mode MODE     permissions of a queue the daemon creates (default 0600)
  --max-sinks N         sinks at once (default ${DEFAULT_CONFIG.maxSinks})
  --allow-uid UID       a uid that may subscribe, besides root and the daemon's (repeatable)
  --allow-gid GID       a primary gid whose processes may subscribe (repeatable)
  --max-sinks-per-uid N           sinks one uid may hold (default ${DEFAULT_CONFIG.maxSinksPerUid})
  --registrations-per-second N    subscribe requests per uid per second (default ${DEFAULT_CONFIG.registrationsPerSecond})
  --log-level L         fatal, error, warn, info, debug, trace or silent (default ${DEFAULT_CONFIG.logLevel})
  --no-packing          do not create or read QUEUE.packed (publishers then send one message per mq_send)
  --shm NAME            put the ring in shared memory /dev/shm/NAME ("/NAME"): processes attach with sub --shm
Beyond one host (see docs/beyond-one-host.md: joining two hosts):
  --multicast-sink G:P  send every message to multicast group G, port P (repeatable)
  --multicast-source G:P  join group G and ingest its datagrams (repeatable)
  --multicast-ttl N     hops, 0 … 255 (default 1: the local network)
  --multicast-interface IP  interface to send and join on (default: the routing table's)
  --multicast-loopback yes|no  whether this host's own members hear it (default yes)
  --nats URL            NATS server, nats://HOST:PORT
  --nats-sink SUBJECT   publish every local message to SUBJECT
  --nats-sink-policy P  block or drop while NATS is unreachable (default block)
  --nats-source SUBJECT ingest SUBJECT's messages
  --nats-creds FILE     NATS credentials file (user/pass and token: in the config file)
SIGHUP rereads --config (these flags still apply on top); SIGTERM drains and exits.`,
  pub: `usage: msgmux pub [--queue NAME] [--priority N] [MESSAGE...]
Publish each MESSAGE; with none, publish one message per line of stdin.
Waits while the queue is full; never drops.
  --queue NAME          queue to publish to (default ${DEFAULT_CONFIG.queue})
  --priority N          0 … 32767, higher is delivered first (default 0)`,
  sub: `usage: msgmux sub [options]
Subscribe and print every message.
  --control ADDR        the daemon's control socket (default ${DEFAULT_CONFIG.control})
  --name ADDR           socket to receive on (default: a unique abstract name)
  --policy P            block, drop or evict (default: the daemon's)
  --count N             exit after N messages
  --format F            text, hex or json (default text)
  --shm                 read the daemon's ring in shared memory (the daemon runs with --shm) instead of a socket`,
  stats: `usage: msgmux stats [--control ADDR] [--json] [--watch [--interval SECONDS]]
Print the daemon's counters: messages ingested, and per sink delivered, dropped and lag.
  --control ADDR        the daemon's control socket (default ${DEFAULT_CONFIG.control})
  --json                one JSON object (per refresh with --watch)
  --watch               refresh until interrupted, with rates per second: redrawn in place
                        on a terminal, one line per refresh when piped
  --interval SECONDS    seconds between refreshes, 0.1 or more (default 1)`,
  bench: BENCH_USAGE,
};

export function usage(command?: CommandName): string {
  if (command) return USAGE[command];
  const commands = COMMANDS.map((c) => USAGE[c].split('\n')[0].replace('usage: ', '  ')).join('\n');
  return `usage: msgmux <command> [options]   (msgmux <command> --help for details)\n\n${commands}\n  msgmux --version (-V)`;
}

const str = { type: 'string' } as const;
const many = { type: 'string', multiple: true } as const;
const flag = { type: 'boolean' } as const;

const OPTIONS = {
  start: {
    config: str, queue: str, control: str, sink: many, 'mq-sink': many,
    'ring-size': str, 'max-message': str, 'queue-depth': str, policy: str,
    metrics: str, 'no-packing': flag, shm: str,
    'queue-mode': str, 'max-sinks': str, 'allow-uid': many, 'allow-gid': many,
    'max-sinks-per-uid': str, 'registrations-per-second': str, 'log-level': str,
    // beyond one host
    'multicast-sink': many, 'multicast-source': many, 'multicast-ttl': str, 'multicast-interface': str,
    'multicast-loopback': str, nats: str, 'nats-sink': str, 'nats-sink-policy': str, 'nats-source': str, 'nats-creds': str,
  },
  pub: { queue: str, priority: str },
  sub: { control: str, name: str, policy: str, count: str, format: str, shm: flag },
  stats: { control: str, json: flag, watch: flag, interval: str },
  bench: BENCH_OPTIONS,
} satisfies Record<CommandName, ParseArgsConfig['options']>;

const usageError = (command: CommandName | undefined, message: string): never => {
  const hint = command ? `msgmux ${command} --help` : 'msgmux --help';
  throw new MsgmuxError(ErrorCode.USAGE, `${command ? `msgmux ${command}: ` : ''}${message} (see ${hint})`);
};

/** Turns a value string into T, or says what it should have been. */
type Reader<T> = (raw: string) => T | undefined;
const integer = (min: number, max: number): Reader<number> => (raw) => {
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN;
  return n >= min && n <= max ? n : undefined;
};
const choice = <T extends string>(choices: readonly T[]): Reader<T> => (raw) =>
  choices.includes(raw as T) ? (raw as T) : undefined;
const bytes: Reader<number> = (raw) => parseSize(raw) ?? undefined;
const seconds = (min: number): Reader<number> => (raw) => {
  const n = /^\d+(\.\d+)?$|^\.\d+$/.test(raw) ? Number(raw) : NaN;
  return n >= min && n <= 86_400 ? n : undefined;
};
const octalMode: Reader<number> = (raw) => (/^0?[0-7]{1,3}$/.test(raw) ? parseInt(raw, 8) : undefined);

function read<T>(command: CommandName, name: string, raw: string | undefined, reader: Reader<T>, expected: string): T | undefined {
  if (raw === undefined) return undefined;
  const value = reader(raw);
  if (value === undefined) usageError(command, `--${name} must be ${expected} (got ${JSON.stringify(raw)})`);
  return value;
}

/** util.parseArgs with its errors turned into ours. */
function parse<C extends CommandName>(command: C, args: string[]) {
  try {
    return parseArgs({ args, options: { ...OPTIONS[command], help: flag }, allowPositionals: command === 'pub', strict: true });
  } catch (err) {
    const message = (err as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    return usageError(command, message);
  }
}

const SIZE = 'a size like 4096, 64K or 8M';
const POLICY = `one of ${SINK_POLICIES.join(', ')}`;

function withoutUndefined<T extends object>(object: T): T {
  return Object.fromEntries(Object.entries(object).filter(([, v]) => v !== undefined)) as T;
}

/** The multicast and NATS flags, as the config's `multicast` and `nats` blocks (checked there). */
function networkFlags(command: CommandName, o: Record<string, string | string[] | boolean | undefined>): Pick<ConfigInput, 'multicast' | 'nats'> {
  const one = (name: string) => o[name] as string | undefined;
  const multicast = withoutUndefined({
    sources: o['multicast-source'] as string[] | undefined,
    ttl: read(command, 'multicast-ttl', one('multicast-ttl'), integer(0, 255), 'an integer from 0 to 255'),
    interface: one('multicast-interface'),
    loopback: read(command, 'multicast-loopback', one('multicast-loopback'), (raw) => ({ yes: true, no: false })[raw], 'yes or no'),
  });
  const nats = withoutUndefined({
    url: one('nats'),
    sink: one('nats-sink'),
    sinkPolicy: read(command, 'nats-sink-policy', one('nats-sink-policy'), choice(NATS_SINK_POLICIES), 'block or drop'),
    source: one('nats-source'),
    credsFile: one('nats-creds'),
  });
  return withoutUndefined({
    multicast: Object.keys(multicast).length > 0 ? multicast : undefined,
    nats: Object.keys(nats).length > 0 ? nats : undefined,
  });
}

export function parseCommandLine(argv: string[]): Command {
  const [name, ...args] = argv;
  if (name === '--version' || name === '-V') return { command: 'version' };
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = args[0] as CommandName | undefined;
    return { command: 'help', text: usage(topic && COMMANDS.includes(topic) ? topic : undefined) };
  }
  if (!COMMANDS.includes(name as CommandName)) {
    return usageError(undefined, `unknown command ${JSON.stringify(name)}; expected one of ${COMMANDS.join(', ')}`);
  }
  const command = name as CommandName;
  const { values: v, positionals } = parse(command, args);
  if (v.help) return { command: 'help', text: usage(command) };

  switch (command) {
    case 'start': {
      const o = v as {
        [K in keyof typeof OPTIONS.start]?: K extends 'sink' | 'mq-sink' | 'multicast-sink' | 'multicast-source' | 'allow-uid' | 'allow-gid'
          ? string[]
          : K extends 'no-packing' ? boolean : string;
      };
      const ids = (name: 'allow-uid' | 'allow-gid') => o[name]?.map((raw) => read(command, name, raw, integer(0, 0xfffffffe), 'a numeric id')!);
      const sinks: SinkInput[] = [
        ...(o.sink ?? []).map((path) => ({ path, kind: 'static' as const })),
        ...(o['mq-sink'] ?? []).map((path) => ({ path, kind: 'mq' as const })),
        ...(o['multicast-sink'] ?? []).map((path) => ({ path, kind: 'multicast' as const })),
      ];
      const flags: ConfigInput = withoutUndefined({
        queue: o.queue,
        control: o.control,
        ringSize: read(command, 'ring-size', o['ring-size'], bytes, SIZE),
        maxMessage: read(command, 'max-message', o['max-message'], bytes, SIZE),
        queueDepth: read(command, 'queue-depth', o['queue-depth'], integer(1, Number.MAX_SAFE_INTEGER), 'a positive integer'),
        policy: read(command, 'policy', o.policy, choice(SINK_POLICIES), POLICY),
        queueMode: read(command, 'queue-mode', o['queue-mode'], octalMode, 'an octal mode from 0000 to 0777, like 0600'),
        maxSinks: read(command, 'max-sinks', o['max-sinks'], integer(1, Number.MAX_SAFE_INTEGER), 'a positive integer'),
        allowUids: ids('allow-uid'),
        allowGids: ids('allow-gid'),
        maxSinksPerUid: read(command, 'max-sinks-per-uid', o['max-sinks-per-uid'], integer(1, Number.MAX_SAFE_INTEGER), 'a positive integer'),
        registrationsPerSecond: read(
          command, 'registrations-per-second', o['registrations-per-second'], integer(1, Number.MAX_SAFE_INTEGER), 'a positive integer',
        ),
        logLevel: read(command, 'log-level', o['log-level'], choice(LOG_LEVELS), `one of ${LOG_LEVELS.join(', ')}`),
        sinks: sinks.length > 0 ? sinks : undefined,
        metrics: o.metrics, // checked by resolveConfig, which names --metrics
        packing: o['no-packing'] === true ? false : undefined,
        ...networkFlags(command, o),
        shm: o.shm !== undefined ? { enabled: true, name: o.shm } : undefined, // checked by resolveConfig, which names --shm
      });
      return withoutUndefined({ command, configFile: o.config, flags });
    }
    case 'pub': {
      const o = v as { queue?: string; priority?: string };
      return {
        command,
        queue: o.queue ?? DEFAULT_CONFIG.queue,
        priority: read(command, 'priority', o.priority, integer(0, 32767), 'an integer from 0 to 32767') ?? 0,
        messages: positionals,
      };
    }
    case 'sub': {
      const o = v as { control?: string; name?: string; policy?: string; count?: string; format?: string; shm?: boolean };
      if (o.shm && o.name !== undefined) usageError(command, '--name names a socket; with --shm messages come through shared memory, not a socket');
      return withoutUndefined({
        command,
        transport: o.shm ? ('shm' as const) : undefined,
        control: o.control ?? DEFAULT_CONFIG.control,
        name: o.name,
        policy: read(command, 'policy', o.policy, choice(SINK_POLICIES), POLICY),
        count: read(command, 'count', o.count, integer(1, Number.MAX_SAFE_INTEGER), 'a positive integer'),
        format: read(command, 'format', o.format, choice(SUB_FORMATS), `one of ${SUB_FORMATS.join(', ')}`) ?? 'text',
      });
    }
    case 'stats': {
      const o = v as { control?: string; json?: boolean; watch?: boolean; interval?: string };
      const interval = read(command, 'interval', o.interval, seconds(0.1), 'a number of seconds from 0.1 to 86400');
      return {
        command,
        control: o.control ?? DEFAULT_CONFIG.control,
        json: o.json ?? false,
        watch: o.watch ?? false,
        intervalMs: interval !== undefined ? Math.round(interval * 1000) : DEFAULT_WATCH_INTERVAL_MS,
      };
    }
    case 'bench':
      return { command, ...parseBenchFlags(v as Record<string, string | boolean | undefined>, (message) => usageError(command, message)) };
  }
}
