/**
 * What a system adapter (one file each under systems/) tells the harness:
 * how to check it can run here, start and stop its broker for a round, and
 * which programs make up one group (a publisher, N subscribers).
 */
import path from 'node:path';
import type { Phase, Plan } from './plan';
import type { GroupSample } from './group';

/** A program to run: a compiled C client, or a Node client script (node: true). */
export interface Launch {
  label: string;
  file: string;
  args: string[];
  node?: boolean;
}

export interface Broker {
  /** The broker process, for its CPU and memory; none for brokerless systems. */
  pid?: number;
  /** Addresses the adapter hands to its clients (queue, socket, url...). */
  address: Record<string, string>;
  stop(): Promise<void>;
}

export interface GroupContext {
  broker: Broker;
  subscribers: number;
  size: number;
  /** A directory for this group's files, removed with the run. */
  dir: string;
  /** Unique within the run, for names of sockets and queues. */
  id: string;
}

export interface Group {
  subscribers: Launch[];
  publisher: Launch;
  /** How many copies of `publisher` run at once, each sending its share (--publisher P --publishers N); the harness sets it, default 1. */
  publishers?: number;
}

interface SystemBase {
  /** What --systems selects, e.g. "redis-node". */
  key: string;
  system: string;
  clients: 'node' | 'c' | 'threads';
  /** Promises no loss, no duplicates and order: a row that breaks it is flagged. */
  lossless: boolean;
  /** Why only one publisher can feed a group (e.g. it binds the endpoint, or is a thread); null when several processes can at once (--publishers). */
  onePublisher: string | null;
  /** Checks it can run here (binaries, headers, npm clients); throws with the reason if not. */
  prepare(plan: Plan): Promise<void>;
}

export interface ProcessSystem extends SystemBase {
  kind: 'process';
  start(dir: string, plan: Plan): Promise<Broker>;
  group(context: GroupContext): Group;
  /** Runs one group somewhere else (multicast: inside a private network namespace). */
  runGroup?(group: Group, brokerPid: number | undefined, phases: Phase[], size: number, dir: string): Promise<GroupSample>;
}

export interface InprocSample {
  /** Records all readers got in the measured round. */
  delivered: number;
  deliveredPerSec: number;
  slowestPerSec: number;
  messages: number;
  lost: number;
  duplicated: number;
  reordered: number;
  clientCpuSec: number | null;
}

export interface InprocSystem extends SystemBase {
  kind: 'inproc';
  measure(readers: number, size: number, count: number): Promise<InprocSample>;
}

export type BenchSystem = ProcessSystem | InprocSystem;

/** A Node client script compiled next to this file (dist/src/bench/clients/<name>.js). */
export const nodeClient = (label: string, name: string, args: string[]): Launch => ({
  label,
  file: path.join(__dirname, 'clients', `${name}.js`),
  args,
  node: true,
});

/** Throws a clear reason when an optional npm client is not installed. */
export function requireClient(name: string): void {
  try {
    require.resolve(name);
  } catch {
    throw new Error(`npm package ${name} is not installed (npm install ${name})`);
  }
}
