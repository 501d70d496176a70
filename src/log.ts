/**
 * Structured logs (pino, JSON lines) on stderr: stdout belongs to command
 * output (`sub` messages, `stats --json`), so logs must never mix into it.
 *
 *   createLogger({ level?, name?, destination? }): Logger
 *
 * Writes are synchronous so the last lines before an exit or a crash are not
 * lost in a buffer; the daemon logs per event, not per message.
 */
import pino from 'pino';
import type { LogLevel } from './config';

export type Logger = pino.Logger;

export interface LoggerOptions {
  level?: LogLevel;
  name?: string;
  /** A file descriptor to write to; stderr (2) unless a test says otherwise. */
  destination?: number;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  return pino(
    { level: options.level ?? 'info', name: options.name ?? 'msgmux', base: { pid: process.pid } },
    pino.destination({ fd: options.destination ?? 2, sync: true }),
  );
}
