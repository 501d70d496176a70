import { ErrorCode, MsgmuxError } from '../errors';

/**
 * Errors from the native binding.
 *
 * A failed syscall throws a plain `Error` shaped like Node's own system
 * errors: `code` is the errno name, plus `errno`, `syscall` and, when the call
 * had one, `address` (the socket address or queue name, in its human form).
 * Bad arguments throw `TypeError` / `RangeError` with an `ERR_*` code.
 */
export interface SyscallError extends Error {
  code: string;
  errno: number;
  syscall: string;
  address?: string;
}

/** Codes for argument errors raised by the binding or its wrapper. */
export const NativeErrorCode = {
  missing: ErrorCode.NATIVE_MISSING,
  addressTooLong: ErrorCode.ADDRESS_TOO_LONG,
  invalidArgType: 'ERR_INVALID_ARG_TYPE',
  invalidArgValue: 'ERR_INVALID_ARG_VALUE',
  outOfRange: 'ERR_OUT_OF_RANGE',
} as const;

/** True when `err` came from a failed syscall (optionally: with this errno name). */
export function isSyscallError(err: unknown, code?: string): err is SyscallError {
  if (!(err instanceof Error)) return false;
  const e = err as Partial<SyscallError>;
  return typeof e.errno === 'number' && typeof e.syscall === 'string' && (code === undefined || e.code === code);
}

/** A TypeError/RangeError carrying a Node-style `code`, as the C side throws them. */
export function argumentError(kind: 'type' | 'range', code: string, message: string): TypeError | RangeError {
  const err = kind === 'range' ? new RangeError(message) : new TypeError(message);
  return Object.assign(err, { code });
}

export function nativeMissingError(file: string, cause: unknown): MsgmuxError {
  return new MsgmuxError(
    NativeErrorCode.missing,
    `msgmux native binding not found or not loadable at ${file}. ` +
      'Run `npm install` in the msgmux package (it builds the addon; needs a C compiler, make and python3).',
    { cause },
  );
}
