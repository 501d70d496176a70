/**
 * Every error msgmux raises carries a stable `code`, like Node's own
 * (`ERR_MSGMUX_...` for ours, the errno name for a failed syscall), so
 * callers branch on `err.code`, never on message text.
 *
 * `ErrorCode` is the one table of msgmux's own codes; the README lists it.
 * Each entry says when the code is raised, so the table doubles as docs.
 */
export const ERROR_CODES = {
  // Usage and configuration
  ERR_MSGMUX_USAGE: 'the command line is wrong (exit code 2)',
  ERR_MSGMUX_CONFIG: 'the config file or an option fails validation; the message lists every problem',
  ERR_MSGMUX_INVALID_ARGUMENT: 'an argument to a library call is out of range or of the wrong type',
  // The ring
  ERR_MSGMUX_RING_CAPACITY: 'a ring capacity that is not a power of two in the allowed range',
  ERR_MSGMUX_RING_READERS: 'a maxReaders outside the allowed range',
  ERR_MSGMUX_RING_INVALID: 'Ring.attach was given memory that does not hold a ring of this version',
  ERR_MSGMUX_RING_FULL: 'every reader slot of the ring is taken',
  ERR_MSGMUX_WRITER_TAKEN: 'the ring already has a writer',
  ERR_MSGMUX_WRITER_CLOSED: 'the ring writer was used after close()',
  ERR_MSGMUX_RECORD_TOO_LARGE: 'a record larger than a quarter of the ring; it is refused, never truncated',
  ERR_MSGMUX_READER_OPTION: 'a reader option (start, policy, maxBatch) is invalid',
  ERR_MSGMUX_READER_CLOSED: 'the ring reader was used after close()',
  ERR_MSGMUX_READER_EVICTED: 'an evict reader stalled longer than its budget and was dropped',
  ERR_MSGMUX_READER_RECLAIMED: "the ring's owner reclaimed the reader (its thread died)",
  // Rings in shared memory
  ERR_MSGMUX_SHM_NAME: 'a shared-memory ring name that is not "/" followed by 1 to 200 characters without "/"',
  ERR_MSGMUX_SHM_INVALID: 'a shared-memory file that does not hold a ring this version can read, or a slot that is not the reader\'s',
  ERR_MSGMUX_SHM_SLOTS: 'every process slot of a shared-memory ring is taken',
  ERR_MSGMUX_SHM_EXISTS: "the daemon's shared-memory ring file exists already: another daemon uses it, or a crashed one left it",
  ERR_MSGMUX_NO_SHM: 'attach asked of a daemon whose ring is not in shared memory (it runs without shm)',
  // The native binding
  ERR_MSGMUX_NATIVE_MISSING: 'the native addon is not built; run npm install',
  ERR_MSGMUX_ADDRESS_TOO_LONG: 'a socket address longer than sun_path allows',
  // The queue and the daemon
  ERR_MSGMUX_NO_QUEUE: 'the ingest queue does not exist: the daemon is not running',
  ERR_MSGMUX_QUEUE: 'a queue operation failed for a reason the message names',
  ERR_MSGMUX_QUEUE_LIMIT: 'the kernel limits leave no room for the queue; the message says which limit and how to raise it',
  ERR_MSGMUX_QUEUE_PERMISSION: 'the queue exists and its permissions do not let this user open it as asked',
  ERR_MSGMUX_ALREADY_RUNNING: 'another daemon already ingests this queue',
  ERR_MSGMUX_MESSAGE_TOO_LARGE: "a message larger than the queue's message size",
  ERR_MSGMUX_CLOSED: 'a publisher or subscriber was used after close()',
  ERR_MSGMUX_STOPPING: 'the daemon is shutting down and takes no requests',
  ERR_MSGMUX_METRICS: 'the metrics listener cannot listen on its address (port in use, not an address of this host); the message names the field',
  // The control protocol
  ERR_MSGMUX_REQUEST_TOO_LARGE: 'a control datagram larger than the daemon accepts',
  ERR_MSGMUX_BAD_REQUEST: 'a control request that is malformed or names an address that cannot be a sink',
  ERR_MSGMUX_UNKNOWN_OP: 'a control request with an op the daemon does not know',
  ERR_MSGMUX_PATH_TOO_LONG: 'a sink path longer than sun_path allows',
  ERR_MSGMUX_SINK_LIMIT: 'the daemon already serves maxSinks sinks',
  ERR_MSGMUX_UNREACHABLE: 'nothing listens at the address to subscribe',
  ERR_MSGMUX_NOT_SUBSCRIBED: 'unsubscribe of an address that is not a sink',
  ERR_MSGMUX_NOT_ALLOWED: 'the sender\'s uid and gid are not allowed to subscribe (config allowUids / allowGids)',
  ERR_MSGMUX_NOT_OWNER: 'the sender does not own the address it names (not sent from it, not its socket), or may not remove that sink',
  ERR_MSGMUX_SINK_QUOTA: 'the sender\'s uid already has maxSinksPerUid sinks',
  ERR_MSGMUX_RATE_LIMITED: 'the sender\'s uid sent more than registrationsPerSecond registrations in the last second',
  ERR_MSGMUX_NO_DAEMON: 'nothing listens on the control socket',
  ERR_MSGMUX_CONTROL_TIMEOUT: 'the daemon did not answer a control request in time',
  ERR_MSGMUX_CONTROL: 'the daemon cannot listen on its control socket, or receiving from it failed',
  ERR_MSGMUX_INTERNAL: 'an unexpected error inside the daemon (a bug: please report it)',
  // Sinks and subscribers
  ERR_MSGMUX_SINK_FAILED: 'a sink worker failed to start or stopped on an error',
  ERR_MSGMUX_SINK_CRASHED: "a sink worker's thread died",
  ERR_MSGMUX_SUBSCRIBER: "the subscriber's receive thread failed",
  // Beyond one host
  ERR_MSGMUX_MULTICAST: 'a multicast source or sink cannot bind, join or send (the message names the group and the syscall error)',
  ERR_MSGMUX_NATS_UNREACHABLE: 'the NATS server in nats.url refused or did not answer when the daemon started',
  ERR_MSGMUX_NATS: 'the NATS bridge thread failed',
  // Framing
  ERR_MSGMUX_BAD_FRAME: 'bytes that should hold a msgmux frame (coalesced datagram, packed message) do not: wrong version, flags or lengths',
} as const;

export type ErrorCodeName = keyof typeof ERROR_CODES;

/** `ErrorCode.USAGE === 'ERR_MSGMUX_USAGE'`: the codes by their short names. */
export const ErrorCode = Object.freeze(
  Object.fromEntries(Object.keys(ERROR_CODES).map((code) => [code.slice('ERR_MSGMUX_'.length), code])),
) as { readonly [K in ErrorCodeName as K extends `ERR_MSGMUX_${infer Short}` ? Short : never]: K };

export class MsgmuxError extends Error {
  /** One of `ERROR_CODES`, or the errno name of the syscall that failed underneath. */
  readonly code: string;

  constructor(code: ErrorCodeName | string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MsgmuxError';
    this.code = code;
  }
}

/** True when `err` is an Error carrying the given `code`. */
export function hasCode(err: unknown, code: string): boolean {
  return err instanceof Error && (err as { code?: unknown }).code === code;
}
