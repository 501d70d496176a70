/**
 * The daemon's configuration: defaults, a JSON file, CLI flags on top.
 *
 *   DEFAULT_CONFIG: DaemonConfig
 *   loadConfigFile(file: string): unknown                    (ERR_MSGMUX_CONFIG)
 *   validateConfig(raw: unknown): DaemonConfig              (ERR_MSGMUX_CONFIG)
 *   resolveConfig({ file?, flags }): DaemonConfig            flags override the file
 *   parseSize('8M' | '64K' | '4096' | 4096): number          (null when malformed)
 *   minRingSize(maxMessage): number                          smallest ring for a message size
 *
 * Validation collects every problem, each naming its field
 * (`config.sinks[2].policy must be one of block, drop, evict (got "fast")`,
 * or `--queue-depth ...` for a flag), and throws them together: a user fixing
 * a config file should see all of its mistakes at once, not one per restart.
 *
 * Sinks given as flags are added to the file's sinks; every other flag
 * replaces the file's value.
 */
import { readFileSync } from 'node:fs';
import { checkFields, fileMode, idList, integer, isProblem, oneOf, powerOfTwo, shown, size, text, type Check } from './config-checks';
import { checkShmName } from './shm/layout';
import { socketAddressProblem } from './address';
import { DEFAULT_CONTROL, DEFAULT_MAX_MESSAGE, DEFAULT_QUEUE } from './defaults';
import { ErrorCode, MsgmuxError } from './errors';
import { HARD_MSGMAX, HARD_MSGSIZEMAX, queueNameProblem } from './queue-limits';
import {
  checkMulticast, checkMulticastSend, checkNats, finishNetwork, groupAddressProblem, mergeNetworkFields,
  type MulticastConfig, type NatsConfig,
} from './network-config';
import { CONFIGURED_SINK_KINDS, SINK_FRAMINGS, SINK_POLICIES, type SinkPolicy, type SinkSpec } from './sink/spec';
import { formatListenAddress, parseListenAddress } from './ops/listen-address';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface DaemonConfig {
  queue: string;
  queueDepth: number;
  /** Bytes; the queue's message size and the largest message msgmux carries. */
  maxMessage: number;
  queueMode: number;
  control: string;
  /** Bytes of ring data: a power of two. */
  ringSize: number;
  /** Policy for sinks that do not name one (dynamic sinks included). */
  policy: SinkPolicy;
  evictAfterMs: number;
  /** Admission limit: sinks beyond it are refused. */
  maxSinks: number;
  /** Besides root and the daemon's own uid, the uids and (primary) gids that may register sinks. */
  allowUids: number[];
  allowGids: number[];
  /** Sinks one uid may hold at once. */
  maxSinksPerUid: number;
  /** Subscribe requests one uid may send per second (a burst of as many, then as many per second). */
  registrationsPerSecond: number;
  /** How long SIGTERM may spend draining the ring to live sinks. */
  drainTimeoutMs: number;
  logLevel: LogLevel;
  /** Also ingest `<queue>.packed`, where publishers put several messages per queue message (src/wire/packed.ts). */
  packing: boolean;
  sinks: SinkSpec[];
  /** The ring in a shared-memory file that reader processes attach to; null: the ring is private to the daemon. */
  shm: ShmConfig | null;
  // ---- operations ----
  /** The Prometheus listener, `HOST:PORT` (a bare port means loopback); null: no listener. */
  metrics: string | null;
  // ---- beyond one host (src/network-config.ts) ----
  /** Multicast send defaults, and the groups to ingest. */
  multicast: MulticastConfig;
  /** The NATS bridge; null when not configured. */
  nats: NatsConfig | null;
}

/** The `shm` block: where the ring's file is, who may read it (its owner, group and mode are the access control). */
export interface ShmConfig {
  /** POSIX shared-memory name, "/something" (the file /dev/shm/something). */
  name: string;
  /** The ring file's mode: readers need read permission (default 0640). */
  mode: number;
  /** The ring file's owner uid and group gid (default: the daemon's). */
  owner?: number;
  group?: number;
  /** Reader slots for attached processes (default 16). */
  readers: number;
}

/** A sink as written in a file or given as a flag: only the path is required. */
export type SinkInput = Pick<SinkSpec, 'path'> & Partial<Omit<SinkSpec, 'path'>>;
/** The `shm` block as written: `enabled` defaults to true, `name` is required while enabled. */
export type ShmInput = Partial<ShmConfig> & { enabled?: boolean };
export type ConfigInput = Partial<Omit<DaemonConfig, 'sinks' | 'multicast' | 'nats' | 'shm'>> & {
  sinks?: SinkInput[];
  multicast?: Partial<MulticastConfig>;
  nats?: Partial<NatsConfig> | null;
  shm?: ShmInput;
};

export const DEFAULT_CONFIG: Readonly<DaemonConfig> = Object.freeze({
  queue: DEFAULT_QUEUE,
  queueDepth: 10,
  maxMessage: DEFAULT_MAX_MESSAGE,
  queueMode: 0o600,
  control: DEFAULT_CONTROL,
  ringSize: 8 * 1024 * 1024,
  policy: 'block',
  evictAfterMs: 5000,
  maxSinks: 256,
  allowUids: [],
  allowGids: [],
  maxSinksPerUid: 16,
  registrationsPerSecond: 50,
  drainTimeoutMs: 5000,
  logLevel: 'info',
  packing: true,
  sinks: [],
  shm: null,
  // ---- operations ----
  metrics: null,
  multicast: { ttl: 1, interface: '0.0.0.0', loopback: true, sources: [] },
  nats: null,
});

export const DEFAULT_SHM_MODE = 0o640;
export const DEFAULT_SHM_READERS = 16;

/**
 * Bytes the ring spends on each record besides its payload (length word,
 * padded to 8). The ring refuses a record larger than a quarter of itself,
 * so a ring must hold four of the largest records.
 */
export const RING_RECORD_HEADER_BYTES = 8;
export const MIN_RING_SIZE = 64 * 1024;
export const MAX_RING_SIZE = 1024 * 1024 * 1024;

export { parseSize } from './config-checks';

export function minRingSize(maxMessage: number): number {
  return 4 * Math.ceil((RING_RECORD_HEADER_BYTES + maxMessage) / 8) * 8;
}

const socketAddress = text((s) => socketAddressProblem(s)?.message ?? null);
const filesystemSocket = text((s) =>
  s.startsWith('/') ? (socketAddressProblem(s)?.message ?? null) : 'must be a filesystem socket path starting with "/"',
);
const queueName = text(queueNameProblem);

// ---- operations ----
/** A listen address, kept in its canonical form (`9464` becomes `127.0.0.1:9464`); null turns the listener off. */
const listenAddress: Check<string | null> = (v) => {
  if (v === null) return null;
  if (typeof v !== 'string' && typeof v !== 'number') return { problem: `must be "HOST:PORT", a port, or null (got ${shown(v)})` };
  const r = parseListenAddress(String(v));
  return 'problem' in r ? { problem: r.problem } : formatListenAddress(r);
};
const groupAddress: Check<string> = (v) => {
  const problem = groupAddressProblem(v);
  return problem ? { problem } : (v as string);
};
const SINK_FLAGS: Record<string, string> = { static: '--sink', mq: '--mq-sink', multicast: '--multicast-sink' };
const MS_MAX = 24 * 3600 * 1000;

const boolean: Check<boolean> = (v) => (typeof v === 'boolean' ? v : { problem: `must be true or false (got ${shown(v)})` });

const TOP_LEVEL: { [K in keyof Omit<DaemonConfig, 'sinks' | 'shm'>]: Check<Required<ConfigInput>[K]> } = {
  queue: queueName,
  queueDepth: integer(1, HARD_MSGMAX),
  maxMessage: size(1, HARD_MSGSIZEMAX),
  queueMode: fileMode,
  control: socketAddress,
  ringSize: powerOfTwo(size(MIN_RING_SIZE, MAX_RING_SIZE)),
  policy: oneOf(SINK_POLICIES),
  evictAfterMs: integer(1, MS_MAX),
  maxSinks: integer(1, 4096),
  allowUids: idList,
  allowGids: idList,
  maxSinksPerUid: integer(1, 4096),
  registrationsPerSecond: integer(1, 1_000_000),
  drainTimeoutMs: integer(0, MS_MAX),
  logLevel: oneOf(LOG_LEVELS),
  packing: boolean,
  // ---- operations ----
  metrics: listenAddress,
  multicast: checkMulticast,
  nats: checkNats,
};

const SINK_FIELDS: { [K in keyof SinkSpec]: Check<SinkSpec[K]> } = {
  path: text(() => null), // checked per kind below
  kind: oneOf(CONFIGURED_SINK_KINDS),
  policy: oneOf(SINK_POLICIES),
  evictAfterMs: integer(1, MS_MAX),
  multicast: checkMulticastSend as Check<SinkSpec['multicast']>,
  framing: oneOf(SINK_FRAMINGS),
  header: boolean,
};

const shmName = text((s) => {
  try {
    checkShmName(s);
    return null;
  } catch {
    return 'must be "/" followed by 1 to 200 characters without "/"';
  }
});

const SHM_FIELDS: { [K in keyof Required<ShmInput>]: Check<Required<ShmInput>[K]> } = {
  enabled: boolean,
  name: shmName,
  mode: fileMode,
  owner: integer(0, 0xfffffffe),
  group: integer(0, 0xfffffffe),
  readers: integer(1, 1024),
};

/** Where values come from, for naming them: `config.sinks[2].policy` or `--queue-depth`. */
type Source = 'config' | 'flags';
const kebab = (key: string) => '--' + key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase());
const fieldName = (source: Source, key: string) => (source === 'flags' ? kebab(key) : `config.${key}`);
const sinkName = (source: Source, i: number, sink: Partial<SinkInput> | undefined) =>
  source === 'flags' ? `${SINK_FLAGS[sink?.kind ?? 'static'] ?? '--sink'} ${shown(sink?.path)}` : `config.sinks[${i}]`;

function checkSinks(raw: unknown, source: Source, issues: string[]): SinkInput[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    issues.push(`${fieldName(source, 'sinks')} must be an array (got ${shown(raw)})`);
    return [];
  }
  const sinks: SinkInput[] = [];
  raw.forEach((entry, i) => {
    const where = sinkName(source, i, entry);
    const before = issues.length;
    const sink = checkFields<SinkSpec>(entry, SINK_FIELDS, where, (k) => `${where}.${k}`, issues);
    if (issues.length > before) return;
    if (sink.path === undefined) return void issues.push(`${where}.path is required`);
    const r = (sink.kind === 'mq' ? queueName : sink.kind === 'multicast' ? groupAddress : filesystemSocket)(sink.path);
    // a flag (`--sink PATH`) is its own path; a file entry has a .path field
    if (isProblem(r)) issues.push(`${source === 'flags' ? where : `${where}.path`} ${r.problem}`);
    else sinks.push(sink as SinkInput);
  });
  return sinks;
}

/** The `shm` block (a file's object, or `--shm NAME` as { name }); each problem names its field. */
function checkShm(raw: unknown, source: Source, issues: string[]): ShmInput | undefined {
  if (raw === undefined) return undefined;
  const where = source === 'flags' ? '--shm' : 'config.shm';
  const nameOf = (k: string) => (source === 'flags' ? '--shm' : `config.shm.${k}`);
  return checkFields<ShmInput>(raw, SHM_FIELDS, where, nameOf, issues);
}

interface Checked {
  fields: ConfigInput;
  sinks: SinkInput[];
  shm?: ShmInput;
}

function checkSource(raw: unknown, source: Source, issues: string[]): Checked {
  const isObject = typeof raw === 'object' && raw !== null && !Array.isArray(raw);
  const { sinks, shm, ...rest } = isObject ? (raw as Record<string, unknown>) : {};
  const fields = checkFields<Required<Omit<ConfigInput, 'sinks' | 'shm'>>>(isObject ? rest : raw, TOP_LEVEL, source, (k) => fieldName(source, k), issues);
  return { fields, sinks: checkSinks(sinks, source, issues), shm: checkShm(shm, source, issues) };
}

/** The merged `shm` input resolved: null when absent or disabled, otherwise with its defaults. */
function finishShm(input: ShmInput | undefined, issues: string[]): ShmConfig | null {
  if (input === undefined || input.enabled === false) return null;
  const { enabled: _enabled, name, ...rest } = input;
  if (name === undefined) {
    issues.push('config.shm.name is required while shm is enabled (e.g. "/msgmux-ring"), or set config.shm.enabled to false');
    return null;
  }
  return { mode: DEFAULT_SHM_MODE, readers: DEFAULT_SHM_READERS, ...rest, name };
}

/** Cross-field rules and defaults, once every source is merged. */
function finish(fields: ConfigInput, sinks: SinkInput[], shm: ShmInput | undefined, issues: string[]): DaemonConfig {
  const { shm: _shm, ...plain } = fields;
  const config: DaemonConfig = {
    ...DEFAULT_CONFIG,
    ...plain,
    sinks: [],
    shm: finishShm(shm, issues),
    ...finishNetwork(fields, sinks.filter((s) => s.kind === 'multicast').map((s) => s.path), issues),
  };
  const needed = minRingSize(config.maxMessage);
  if (config.ringSize < needed) {
    issues.push(
      `ringSize (${config.ringSize}) must be at least 4 × (maxMessage + ${RING_RECORD_HEADER_BYTES}-byte record header) = ${needed} bytes ` +
        `for maxMessage ${config.maxMessage}: raise ringSize to a power of two ≥ ${needed} or lower maxMessage`,
    );
  }
  const seen = new Map<string, string>();
  for (const sink of sinks) {
    const kind = sink.kind ?? 'static';
    const key = `${kind}:${sink.path}`;
    if (seen.has(key)) issues.push(`${kind} sink ${shown(sink.path)} is listed twice`);
    seen.set(key, sink.path);
    const { ttl, interface: iface, loopback } = config.multicast;
    const multicast = kind === 'multicast' ? { ttl, interface: iface, loopback, ...sink.multicast } : undefined;
    // A queue sink's messages are the queue's own size, and a multicast sink's datagrams are ingested by other daemons
    // one message each: neither has room for a frame or a header.
    if (kind !== 'static' && (sink.framing === 'coalesced' || sink.header === true)) {
      issues.push(`${kind} sink ${shown(sink.path)} takes plain messages only: framing "coalesced" and header apply to socket sinks`);
    }
    config.sinks.push({
      path: sink.path,
      kind,
      policy: sink.policy ?? config.policy,
      evictAfterMs: sink.evictAfterMs ?? config.evictAfterMs,
      framing: sink.framing ?? 'plain',
      header: sink.header ?? false,
      ...(multicast && { multicast }),
    });
  }
  if (config.sinks.length > config.maxSinks) issues.push(`${config.sinks.length} sinks are listed but maxSinks is ${config.maxSinks}`);
  return config;
}

function throwIfAny(issues: string[], heading: string): void {
  if (issues.length === 0) return;
  throw new MsgmuxError(ErrorCode.CONFIG, `${heading}:\n  ${issues.join('\n  ')}`);
}

/** Reads and parses a JSON config file; every failure names the file. */
export function loadConfigFile(file: string): unknown {
  let textContent: string;
  try {
    textContent = readFileSync(file, 'utf8');
  } catch (cause) {
    const reason = (cause as NodeJS.ErrnoException).code ?? String(cause);
    throw new MsgmuxError(ErrorCode.CONFIG, `cannot read config file ${file}: ${reason}`, { cause });
  }
  try {
    return JSON.parse(textContent);
  } catch (cause) {
    throw new MsgmuxError(ErrorCode.CONFIG, `config file ${file} is not valid JSON: ${(cause as Error).message}`, { cause });
  }
}

/** Validates a parsed config object (from a file) and fills in defaults. */
export function validateConfig(raw: unknown): DaemonConfig {
  const issues: string[] = [];
  const { fields, sinks, shm } = checkSource(raw, 'config', issues);
  const config = finish(fields, sinks, shm, issues);
  throwIfAny(issues, 'invalid configuration');
  return config;
}

/** Defaults, then the file (if any), then the flags; sinks from both are kept. */
export function resolveConfig(options: { file?: string; flags?: ConfigInput }): DaemonConfig {
  const { file, flags = {} } = options;
  const issues: string[] = [];
  const fromFile: Checked = file !== undefined ? checkSource(loadConfigFile(file), 'config', issues) : { fields: {}, sinks: [] };
  const fromFlags = checkSource(flags, 'flags', issues);
  // `--shm NAME` turns the file's block on with that name; its other fields stay.
  const shm = fromFile.shm === undefined && fromFlags.shm === undefined ? undefined : { ...fromFile.shm, ...fromFlags.shm };
  const config = finish(mergeNetworkFields(fromFile.fields, fromFlags.fields), [...fromFile.sinks, ...fromFlags.sinks], shm, issues);
  throwIfAny(issues, file !== undefined ? `invalid configuration (${file} and flags)` : 'invalid flags');
  return config;
}
