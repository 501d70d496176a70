/** Names and sizes msgmux uses when told nothing else: each defined here once. */

/** The bus's POSIX queue. */
export const DEFAULT_QUEUE = '/msgmux';
/** The daemon's control socket (an abstract name). */
export const DEFAULT_CONTROL = '@msgmux/control';
/** Bytes: the queue's message size, the largest message carried. */
export const DEFAULT_MAX_MESSAGE = 8192;
