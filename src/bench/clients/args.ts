/** The command line every bench client takes, Node or C alike: --name value pairs. */
import { parsePhasesArg, type Phase } from '../plan';

export interface ClientArgs {
  get(name: string): string;
  optional(name: string): string | undefined;
  phases: Phase[];
  size: number;
  /** --publishers N and this publisher's --publisher P (0 … N-1): publisher P sends each phase's offsets P, P+N, … (harness/c/bench.h). */
  publishers: number;
  publisher: number;
}

export function clientArgs(argv = process.argv.slice(2)): ClientArgs {
  const values = new Map<string, string>();
  for (let i = 0; i + 1 < argv.length; i += 2) values.set(argv[i].replace(/^--/, ''), argv[i + 1]);
  const get = (name: string): string => {
    const value = values.get(name);
    if (value === undefined) throw new Error(`missing --${name}`);
    return value;
  };
  const publishers = Number(values.get('publishers') ?? 1);
  const publisher = Number(values.get('publisher') ?? 0);
  if (!(Number.isInteger(publishers) && publishers >= 1)) throw new Error(`bad --publishers ${values.get('publishers')}`);
  if (!(Number.isInteger(publisher) && publisher >= 0 && publisher < publishers)) throw new Error(`bad --publisher ${values.get('publisher')}`);
  return { get, optional: (name) => values.get(name), phases: parsePhasesArg(get('phases')), size: Number(values.get('size') ?? 64), publishers, publisher };
}

/** One JSON line to the harness. */
export const say = (report: object): void => void process.stdout.write(`${JSON.stringify(report)}\n`);

/** CLOCK_MONOTONIC in ns, as the C clients read it (Node's hrtime is that clock on Linux). */
export const nowNs = (): number => Number(process.hrtime.bigint());

let cachedTaskNs = 0;
const forgetTaskNs = (): void => {
  cachedTaskNs = 0;
};

/**
 * The clock read once per task: what the clients' throughput phases use,
 * where a message's own time matters only as "during this task" (every
 * message a subscriber handles in one task had arrived when the task began;
 * a publisher's stamps are read only in latency phases). A BigInt clock read
 * per message (~110 ns) would cost the clients more than many transports
 * cost per message. Latency phases read `nowNs()` for each message.
 */
export function taskNs(): number {
  if (cachedTaskNs === 0) {
    cachedTaskNs = nowNs();
    queueMicrotask(forgetTaskNs);
  }
  return cachedTaskNs;
}

/** Lines from the harness on stdin: next() resolves with the next one, or null at EOF. */
export function stdinLines(): { next(): Promise<string | null> } {
  const lines: string[] = [];
  const waiting: ((line: string | null) => void)[] = [];
  let ended = false;
  let partial = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop()!;
    for (const line of parts) (waiting.shift() ?? ((l: string | null) => lines.push(l!)))(line);
  });
  process.stdin.on('end', () => {
    ended = true;
    for (const w of waiting.splice(0)) w(null);
  });
  return {
    next: () => (lines.length > 0 ? Promise.resolve(lines.shift()!) : ended ? Promise.resolve(null) : new Promise((r) => waiting.push(r))),
  };
}
