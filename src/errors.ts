/**
 * Every error msgmux raises carries a stable `code`, like Node's own
 * (`ERR_MSGMUX_...` for ours, the errno name for a failed syscall), so
 * callers branch on `err.code`, never on message text.
 */
export class MsgmuxError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MsgmuxError';
    this.code = code;
  }
}

/** True when `err` is an Error carrying the given `code`. */
export function hasCode(err: unknown, code: string): boolean {
  return err instanceof Error && (err as { code?: unknown }).code === code;
}
