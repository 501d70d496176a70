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

  /** @param doorbell the sink line's doorbell descriptor; -1 when it has none */
  constructor(private readonly doorbell: number) {
    this.fds = Int32Array.of(-1, doorbell);
  }

  /** Before a send: the longest its wait may last (-1: until writable or rung). */
  prepare(timeoutMs: number): void {
    this.timeoutMs = timeoutMs;
    this.ended = WaitEnd.WRITABLE;
  }

  forWritable(fd: number): boolean {
    const { fds, revents } = this;
    fds[0] = fd;
    let timeout = this.timeoutMs;
    if (this.doorbell < 0 && (timeout < 0 || timeout > LONGEST_WAIT_WITHOUT_DOORBELL_MS)) timeout = LONGEST_WAIT_WITHOUT_DOORBELL_MS;
    pollEach(fds, this.events, 2, timeout, revents);
    if (revents[1] !== 0) {
      clearDoorbell(this.doorbell);
      this.ended = WaitEnd.RUNG;
    } else {
      // An error or hangup counts as writable: the send that follows reports it.
      this.ended = revents[0] !== 0 ? WaitEnd.WRITABLE : WaitEnd.TIMED_OUT;
    }
    return this.ended === WaitEnd.WRITABLE;
  }
}
