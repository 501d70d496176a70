/** The main thread's side of one fanout benchmark worker. */
import type { Worker } from 'node:worker_threads';
import type { FanoutCommand, FanoutReport } from './protocol';

/** A worker plus an inbox, so that no report is missed between two awaits. */
export class Peer {
  private readonly inbox: FanoutReport[] = [];
  private waiting: ((report: FanoutReport) => void) | null = null;
  private failure: Error | null = null;
  private failed: ((err: Error) => void) | null = null;

  constructor(readonly worker: Worker) {
    worker.on('message', (report: FanoutReport) => {
      if (this.waiting) {
        const deliver = this.waiting;
        this.waiting = this.failed = null;
        deliver(report);
      } else this.inbox.push(report);
    });
    const fail = (err: Error): void => {
      this.failure = err;
      this.failed?.(err);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`benchmark worker exited (code ${code})`)));
  }

  send(command: FanoutCommand): void {
    this.worker.postMessage(command);
  }

  next<T extends FanoutReport['type']>(type: T): Promise<Extract<FanoutReport, { type: T }>> {
    const check = (report: FanoutReport): Extract<FanoutReport, { type: T }> => {
      if (report.type !== type) throw new Error(`expected ${type} from a benchmark worker, got ${report.type}`);
      return report as Extract<FanoutReport, { type: T }>;
    };
    const queued = this.inbox.shift();
    if (queued) return Promise.resolve(queued).then(check);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<FanoutReport>((resolve, reject) => {
      this.waiting = resolve;
      this.failed = reject;
    }).then(check);
  }
}
