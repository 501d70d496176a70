/**
 * How a sink worker waits for its sink to take more: one poll(2) on the
 * sink's descriptor (writable) and on the sink line's doorbell, which a stop
 * request rings (src/sink/state.ts). A hung sink then costs no wake-ups at
 * all, and a stop still ends the wait at once. The drain loop sets how long
 * each wait may last (forever, an eviction deadline, a drop sink's brief
 * wait) and reads how it ended: only a wait that ended writable and still
 * sent nothing calls for a back-off (see the EAGAIN note in target.ts).
 */
import { clearDoorbell, pollEach } from '../native';
import type { RoomWait } from './target';

/** Without a doorbell (a line not made by its owner) a stop is only seen by looking, this often. */
const LONGEST_WAIT_WITHOUT_DOORBELL_MS = 100;

export const WaitEnd = { WRITABLE: 0, RUNG: 1, TIMED_OUT: 2 } as const;
export type WaitEndCode = (typeof WaitEnd)[keyof typeof WaitEnd];

export class SendWait implements RoomWait {
  private timeoutMs = -1;
  /** How the last wait since prepare() ended; WRITABLE when there was none (a send that took nothing then backs off). */
  ended: WaitEndCode = WaitEnd.WRITABLE;
  private readonly fds: Int32Array;
  private readonly events = Int32Array.of(2, 1);
  private readonly revents = new Int32Array(2);
  private readonly endedBy = new Int32Array(1);

  /** @param doorbell the sink line's doorbell descriptor; -1 when it has none */
  constructor(private readonly doorbell: number) {
    this.fds = Int32Array.of(-1, doorbell);
  }

  /** Before a send: the longest its wait may last (-1: until writable or rung). */
  prepare(timeoutMs: number): void {
    this.timeoutMs = timeoutMs;
    this.ended = WaitEnd.WRITABLE;
  }

  /** The longest this wait may last: as prepared, but never unbounded without a doorbell. */
  private waitMs(): number {
    const timeout = this.timeoutMs;
    return this.doorbell < 0 && (timeout < 0 || timeout > LONGEST_WAIT_WITHOUT_DOORBELL_MS) ? LONGEST_WAIT_WITHOUT_DOORBELL_MS : timeout;
  }

  forWritable(fd: number): boolean {
    const { fds, revents } = this;
    fds[0] = fd;
    pollEach(fds, this.events, 2, this.waitMs(), revents);
    // An error or hangup counts as writable: the send that follows reports it.
    return this.end(revents[1] !== 0 ? WaitEnd.RUNG : revents[0] !== 0 ? WaitEnd.WRITABLE : WaitEnd.TIMED_OUT);
  }

  within(send: (doorbell: number, timeoutMs: number, ended: Int32Array) => number): number {
    const sent = send(this.doorbell, this.waitMs(), this.endedBy);
    this.end(this.endedBy[0] as WaitEndCode);
    return sent;
  }

  private end(how: WaitEndCode): boolean {
    if (how === WaitEnd.RUNG) clearDoorbell(this.doorbell);
    this.ended = how;
    return how === WaitEnd.WRITABLE;
  }
}
