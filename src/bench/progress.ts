/**
 * Where the run is: one line redrawn in place when stderr is a terminal
 * (system, round, time left), plain lines otherwise (logs, CI).
 */
export class Progress {
  private readonly started = Date.now();
  private done = 0;
  private readonly live = process.stderr.isTTY === true;

  constructor(private readonly steps: number) {}

  step(what: string): void {
    const elapsed = (Date.now() - this.started) / 1000;
    const left = this.done > 0 ? Math.max(0, (elapsed / this.done) * (this.steps - this.done)) : null;
    const line = `[${this.done + 1}/${this.steps}] ${what}${left === null ? '' : `, ~${Math.ceil(left)} s left`}`;
    this.done++;
    if (this.live) process.stderr.write(`\r\x1b[K${line.slice(0, (process.stderr.columns || 120) - 1)}`);
    else process.stderr.write(`${line}\n`);
  }

  /** A line that stays (a skipped system, a failed group). */
  note(text: string): void {
    process.stderr.write(this.live ? `\r\x1b[K${text}\n` : `${text}\n`);
  }

  end(): void {
    if (this.live) process.stderr.write('\r\x1b[K');
  }
}
