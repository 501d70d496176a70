/**
 * Types for posix-mq@1.1.3 (it ships none). The native methods throw
 * `new Error(strerror(errno))`; push/shift return false on EAGAIN.
 * Events: 'messages' (the queue became non-empty), 'drain' (it has room);
 * both come from a uv_poll on the handle; see test/helpers/posix-mq.ts for its quirks.
 * That uv_poll also makes the descriptor non-blocking whatever `flags` say:
 * push and shift never block.
 */
declare module 'posix-mq' {
  import { EventEmitter } from 'node:events';

  interface OpenOptions {
    name: string;
    create?: boolean;
    exclusive?: boolean;
    /** Octal string ('0600') or number. */
    mode?: string | number;
    maxmsgs?: number;
    msgsize?: number;
    /** mq_open flags; default O_RDWR | O_NONBLOCK (non-blocking either way: see above). */
    flags?: number;
  }

  class PosixMQ extends EventEmitter {
    open(options: OpenOptions): void;
    close(): void;
    unlink(): void;
    push(data: Buffer | string, priority?: number): boolean;
    shift(buffer: Buffer): number | false;
    shift(buffer: Buffer, withPriority: true): [bytes: number, priority: number] | false;
    readonly msgsize: number;
    readonly maxmsgs: number;
    readonly curmsgs: number;
    readonly isFull: boolean;
  }

  export = PosixMQ;
}
