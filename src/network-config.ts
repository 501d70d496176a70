/**
 * The config blocks for the legs beyond one host: `multicast` and `nats`.
 * config.ts validates every other field; this module checks these two
 * blocks (each problem names its field), merges file and flags, and fills
 * in defaults.
 *
 *   "multicast": { "ttl": 1, "interface": "0.0.0.0", "loopback": true, "sources": ["225.4.5.7:5001"] }
 *   "nats": { "url": "nats://10.0.0.5:4222", "sink": "bus.events", "sinkPolicy": "block", "source": "bus.events",
 *             "user": "u", "pass": "p" | "token": "t" | "credsFile": "/etc/msgmux/bus.creds" }
 *
 * Multicast sinks are listed with the other sinks (`"kind": "multicast", "path": "225.4.5.6:5000"`), and may
 * carry their own `multicast` send options; the top-level block gives the defaults.
 */
import { shown } from './config-checks';
import { ip4Problem, parseGroupAddress } from './inet-address';
import type { MulticastSendOptions } from './native/udp';

export interface MulticastConfig extends MulticastSendOptions {
  /** Groups to join and ingest (`GROUP:PORT`), beside the bus queue. */
  sources: string[];
}

export const NATS_SINK_POLICIES = ['block', 'drop'] as const;

export interface NatsConfig {
  /** `nats://HOST:PORT` (several servers: comma-separated). */
  url: string;
  user?: string;
  pass?: string;
  token?: string;
  credsFile?: string;
  /** Subject every local message is published to. */
  sink?: string;
  /** block: while NATS is unreachable the ring backs up onto publishers; drop: counted as dropped. */
  sinkPolicy: (typeof NATS_SINK_POLICIES)[number];
  /** Subject whose messages are ingested into the bus. */
  source?: string;
}

export const DEFAULT_MULTICAST: Readonly<MulticastConfig> = Object.freeze({ ttl: 1, interface: '0.0.0.0', loopback: true, sources: [] });

type Problem = { problem: string };
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks each key of `raw` with its checker; the problems, joined, become one. */
function checkBlock<T>(raw: unknown, checks: Record<string, (v: unknown) => string | null>): T | Problem {
  if (!isObject(raw)) return { problem: `must be an object (got ${Array.isArray(raw) ? 'an array' : shown(raw)})` };
  const problems: string[] = [];
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    if (!Object.hasOwn(checks, key)) problems.push(`has unknown key ${shown(key)} (known: ${Object.keys(checks).join(', ')})`);
    else {
      const problem = checks[key](value);
      if (problem) problems.push(`.${key}${problem.startsWith('[') ? '' : ' '}${problem}`);
    }
  }
  return problems.length > 0 ? { problem: problems.join('; ') } : (raw as T);
}

const ttl = (v: unknown) => (Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 255 ? null : `must be an integer from 0 to 255 (got ${shown(v)})`);
const iface = (v: unknown) => (typeof v === 'string' && !ip4Problem(v) ? null : `must be the IPv4 address of an interface, like 192.168.1.10 or 0.0.0.0 (got ${shown(v)})`);
const bool = (v: unknown) => (typeof v === 'boolean' ? null : `must be true or false (got ${shown(v)})`);
const nonEmpty = (v: unknown) => (typeof v === 'string' && v.length > 0 ? null : `must be a non-empty string (got ${shown(v)})`);
/** NATS subjects: dot-separated tokens, no spaces; a sink publishes to one literal subject. */
const subject = (v: unknown) => (typeof v === 'string' && /^[^\s.*>]+(\.[^\s.*>]+)*$/.test(v) ? null : `must be a NATS subject like bus.events: dot-separated tokens, no spaces or wildcards (got ${shown(v)})`);
const natsUrl = (v: unknown) =>
  typeof v === 'string' && v.split(',').every((u) => /^(nats|tls|ws|wss):\/\/[^\s/]+(:\d{1,5})?\/?$/.test(u.trim()))
    ? null
    : `must be a server URL like nats://10.0.0.5:4222 (several: comma-separated) (got ${shown(v)})`;

/** A group address problem, or null: for multicast sink paths and sources. */
export function groupAddressProblem(v: unknown): string | null {
  if (typeof v !== 'string') return `must be a string like 225.4.5.6:5000 (got ${shown(v)})`;
  const parsed = parseGroupAddress(v);
  return 'problem' in parsed ? `${parsed.problem} (got ${shown(v)})` : null;
}

const SEND_CHECKS = { ttl, interface: iface, loopback: bool };

export const checkMulticastSend = (raw: unknown): Partial<MulticastSendOptions> | Problem => checkBlock(raw, SEND_CHECKS);

export const checkMulticast = (raw: unknown): Partial<MulticastConfig> | Problem =>
  checkBlock(raw, {
    ...SEND_CHECKS,
    sources: (v) => {
      if (!Array.isArray(v)) return `must be an array of group addresses like ["225.4.5.7:5001"] (got ${shown(v)})`;
      const bad = v.map((a, i) => [i, groupAddressProblem(a)] as const).filter(([, p]) => p);
      return bad.length > 0 ? bad.map(([i, p]) => `[${i}] ${p}`).join('; .sources') : null;
    },
  });

export const checkNats = (raw: unknown): Partial<NatsConfig> | Problem =>
  checkBlock(raw, {
    url: natsUrl, user: nonEmpty, pass: nonEmpty, token: nonEmpty, credsFile: nonEmpty, sink: subject, source: subject,
    sinkPolicy: (v) => (NATS_SINK_POLICIES.includes(v as 'block') ? null : `must be one of ${NATS_SINK_POLICIES.join(', ')} (got ${shown(v)})`),
  });

interface NetworkFields {
  multicast?: Partial<MulticastConfig>;
  nats?: Partial<NatsConfig> | null;
}

/** Flags override the file field by field; multicast sources from both are kept. */
export function mergeNetworkFields<T extends NetworkFields>(file: T, flags: T): T {
  const merged = { ...file, ...flags };
  if (file.multicast || flags.multicast) {
    merged.multicast = { ...file.multicast, ...flags.multicast, sources: [...(file.multicast?.sources ?? []), ...(flags.multicast?.sources ?? [])] };
  }
  if (file.nats || flags.nats) merged.nats = { ...file.nats, ...flags.nats };
  return merged;
}

/** Defaults and cross-field rules, once merged. */
export function finishNetwork(
  fields: NetworkFields, multicastSinks: string[], issues: string[],
): { multicast: MulticastConfig; nats: NatsConfig | null } {
  const multicast = { ...DEFAULT_MULTICAST, ...fields.multicast, sources: [...new Set(fields.multicast?.sources ?? [])] };
  for (const group of multicast.sources.filter((g) => multicast.loopback && multicastSinks.includes(g))) {
    issues.push(`multicast group ${group} is both a sink and a source with loopback on: the daemon would ingest what it sends; set multicast.loopback false (--multicast-loopback no) or use two groups`);
  }
  const given = fields.nats;
  if (!given) return { multicast, nats: null };
  const nats: NatsConfig = { sinkPolicy: 'block', ...given, url: given.url ?? '' };
  if (!given.url) issues.push('nats.url is required (--nats nats://HOST:PORT) when a NATS sink or source is given');
  if (!nats.sink && !nats.source) issues.push('nats needs a sink or a source subject (--nats-sink SUBJECT, --nats-source SUBJECT)');
  const auth = [nats.token && 'token', nats.user && 'user', nats.credsFile && 'credsFile'].filter(Boolean);
  if (auth.length > 1) issues.push(`nats takes one way to authenticate; got ${auth.join(' and ')}`);
  if (nats.user && !nats.pass) issues.push('nats.user needs nats.pass');
  return { multicast, nats };
}
