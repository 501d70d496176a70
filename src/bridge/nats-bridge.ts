/**
 * The NATS bridge: a sink that publishes every local message to a subject,
 * and a source that ingests a subject's messages, over one client
 * connection. Runs in its own thread (workers/nats-bridge.ts), because the
 * client needs an event loop; it reads the ring as an ordinary reader (async
 * waits) and hands what it receives to ingest through a channel
 * (src/source/channel.ts), so the ring keeps its one writer.
 *
 * - Reconnects are the client's (forever). While NATS is unreachable the sink
 *   is not reachable: a `block` sink stops reading, so the ring backs up and
 *   then publishers block; a `drop` sink reads on and counts what it drops.
 * - No echo: the connection is `noEcho` (the server never returns our own
 *   publishes), and the sink skips records a network source brought
 *   (src/source/record-meta.ts), so two buses bridged both ways never loop.
 * - Core NATS is at most once: what was written to a server that then dies
 *   is lost. JetStream is not used.
 */
// The daemon's ring may be in shared memory (config shm): its waits are then futex(2).
import '../shm/futex-waits';
import { readFileSync } from 'node:fs';
import { connect, credsAuthenticator, type ConnectionOptions, type NatsConnection, type Subscription } from 'nats';
import { ErrorCode, MsgmuxError } from '../errors';
import type { NatsConfig } from '../network-config';
import { Ring, type RingReader } from '../ring';
import { SharedState } from '../daemon/shared-state';
import { ChannelWriter, type ChannelSpec } from '../source/channel';
import { SourceCounters } from '../source/counters';
import { Origin, RecordMeta } from '../source/record-meta';
import { SinkState, type SinkEntry } from '../sink/state';

export interface NatsBridgeTask {
  nats: NatsConfig;
  name: string;
  ring: SharedArrayBuffer;
  shared: SharedArrayBuffer;
  /** The SharedState sink line the bridge's sink counts on. */
  sinkIndex: number;
  recordMeta: SharedArrayBuffer | null;
  channel: ChannelSpec | null;
  sourceCounters: SharedArrayBuffer | null;
  sourceLine: number;
  messageSize: number;
}

export type BridgeEvent =
  | { type: 'ready' }
  | { type: 'failed'; code: string; message: string }
  | { type: 'status'; connected: boolean; server?: string; detail?: string }
  | { type: 'stopped'; published: number; undeliveredBytes: number };

const MAX_BATCH = 256;
/** Messages a source holds while ingest catches up; beyond it, new ones are counted as dropped. */
const SOURCE_BACKLOG = 16_384;
/** A block sink confirms with the server this often, so the client's buffer stays bounded. */
const FLUSH_EVERY = 4096;

export function natsOptions(config: NatsConfig, name: string): ConnectionOptions {
  const options: ConnectionOptions = {
    servers: config.url.split(',').map((u) => u.trim()),
    name,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    noEcho: true,
    timeout: 5000,
  };
  if (config.user) Object.assign(options, { user: config.user, pass: config.pass });
  if (config.token) options.token = config.token;
  if (config.credsFile) {
    let creds: Uint8Array;
    try {
      creds = readFileSync(config.credsFile);
    } catch (err) {
      throw new MsgmuxError(ErrorCode.CONFIG, `nats.credsFile ${config.credsFile} cannot be read: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    options.authenticator = credsAuthenticator(creds);
  }
  return options;
}

export class NatsBridge {
  private connected = true;
  private wakeSink: (() => void) | null = null;
  private reader: RingReader | null = null;
  private subscription: Subscription | null = null;
  private readonly entry: SinkEntry;
  private readonly recordMeta: RecordMeta | null;
  private readonly counters: SourceCounters | null;
  private sinkDone: Promise<void> = Promise.resolve();
  private sourceDone: Promise<void> = Promise.resolve();

  private constructor(
    private readonly task: NatsBridgeTask,
    private readonly nc: NatsConnection,
    private readonly post: (event: BridgeEvent) => void,
  ) {
    this.entry = new SharedState(task.shared).sink(task.sinkIndex);
    this.recordMeta = task.recordMeta ? new RecordMeta(task.recordMeta) : null;
    this.counters = task.sourceCounters ? new SourceCounters(task.sourceCounters) : null;
  }

  /** Connects (failing clearly when NATS is unreachable), then starts the sink and source. */
  static async start(task: NatsBridgeTask, post: (event: BridgeEvent) => void): Promise<NatsBridge> {
    let nc: NatsConnection;
    try {
      nc = await connect(natsOptions(task.nats, task.name));
    } catch (err) {
      if (err instanceof MsgmuxError) throw err;
      const { code, message } = err as { code?: string; message?: string };
      throw new MsgmuxError(ErrorCode.NATS_UNREACHABLE, `cannot connect to NATS at nats.url ${task.nats.url}: ${message ?? code ?? 'no answer'}`);
    }
    const bridge = new NatsBridge(task, nc, post);
    void bridge.watchStatus();
    if (task.nats.sink) bridge.sinkDone = bridge.runSink(task.nats.sink);
    if (task.nats.source && task.channel) bridge.sourceDone = bridge.runSource(task.nats.source, task.channel);
    return bridge;
  }

  private async watchStatus(): Promise<void> {
    for await (const status of this.nc.status()) {
      const type = status.type as string; // Events.Disconnect / Events.Reconnect
      if (type === 'disconnect' || type === 'reconnect') {
        this.connected = type === 'reconnect';
        if (this.task.nats.sink) this.entry.setReachable(this.connected);
        this.post({ type: 'status', connected: this.connected, server: typeof status.data === 'string' ? status.data : JSON.stringify(status.data) });
        if (this.connected) this.wakeSink?.();
      }
    }
  }

  private async runSink(subject: string): Promise<void> {
    const ring = Ring.attach(this.task.ring);
    const policy = this.task.nats.sinkPolicy;
    const reader = (this.reader = ring.reader({ start: 'latest', policy, maxBatch: MAX_BATCH }));
    const bytes = new Uint8Array(ring.buffer);
    this.entry.reset();
    this.entry.slot = reader.slot;
    this.entry.state = SinkState.JOINED;
    this.entry.setReachable(true);
    let sinceFlush = 0;
    try {
      while (!reader.isClosed) {
        if (!this.connected && policy === 'block') {
          await this.reconnected();
          continue;
        }
        const batch = await reader.peekAsync(MAX_BATCH);
        if (batch.count === 0) continue;
        const local: Uint8Array[] = [];
        const recordNumbers: number[] = [];
        for (let k = 0; k < batch.count; k++) {
          local.push(bytes.slice(batch.offsets[k], batch.offsets[k] + batch.lengths[k]));
          recordNumbers.push(batch.recordNumbers[k]);
        }
        const intactFrom = reader.release(); // copies made: a lapped drop reader keeps only what was intact
        let published = 0;
        let dropped = 0;
        for (let k = intactFrom; k < local.length; k++) {
          if (this.recordMeta && this.recordMeta.originOf(recordNumbers[k]) !== Origin.LOCAL) continue; // came from the network
          if (!this.connected && policy === 'block') await this.reconnected(); // went down while this batch was in hand
          if (!this.connected) {
            dropped++;
            continue;
          }
          this.nc.publish(subject, local[k]);
          published++;
        }
        this.entry.count(published, 0, dropped); // not sent: NATS was unreachable
        sinceFlush += published;
        if (sinceFlush >= FLUSH_EVERY && policy === 'block') {
          sinceFlush = 0;
          await this.nc.flush().catch(() => undefined); // a disconnect shows in the status events
        }
      }
    } finally {
      this.entry.setReachable(false);
      this.entry.state = SinkState.DONE;
    }
  }

  /** Resolves on reconnect, or when the bridge stops. */
  private reconnected(): Promise<void> {
    return new Promise<void>((resolve) => (this.wakeSink = resolve));
  }

  private async runSource(subject: string, spec: ChannelSpec): Promise<void> {
    const channel = new ChannelWriter(spec);
    const backlog: Uint8Array[] = [];
    let flowing: Promise<void> | null = null;
    const line = this.task.sourceLine;
    const flow = async (): Promise<void> => {
      while (backlog.length > 0) {
        const batch = backlog.splice(0, MAX_BATCH);
        await channel.write(batch);
      }
      flowing = null;
    };
    let closed: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (closed = resolve));
    this.subscription = this.nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err) return;
        if (msg.data.length > this.task.messageSize) return this.counters?.add(line, 0, 1);
        if (backlog.length >= SOURCE_BACKLOG) return this.counters?.add(line, 0, 0, 1);
        backlog.push(msg.data);
        flowing ??= flow();
      },
    });
    void this.subscription.closed.then(async () => {
      await flowing;
      channel.close();
      closed();
    });
    return done;
  }

  /** Stops taking from NATS, publishes what the ring holds (until `deadline`), and closes. */
  async stop(deadline: number): Promise<BridgeEvent> {
    this.subscription?.unsubscribe();
    const reader = this.reader;
    while (reader && reader.lag !== 0 && this.connected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    const undeliveredBytes = reader ? reader.lag : 0;
    reader?.close();
    this.wakeSink?.();
    await Promise.race([Promise.all([this.sinkDone, this.sourceDone]), new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now())))]);
    await this.nc.drain().catch(() => this.nc.close());
    return { type: 'stopped', published: this.entry.delivered, undeliveredBytes };
  }
}
