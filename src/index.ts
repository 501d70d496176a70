/**
 * The package root: what a program using msgmux needs, nothing internal.
 * The native binding's classes are under `msgmux/native`.
 */
export * from './ring';
export { ERROR_CODES, ErrorCode, MsgmuxError, type ErrorCodeName } from './errors';
export { Publisher, type PublisherOptions } from './publisher';
export { Subscriber, type SubscriberOptions } from './subscriber';
export { controlCall, controlRequest, DEFAULT_CONTROL } from './control-client';
export type { ControlReply } from './control-protocol';
export type { DaemonStats } from './daemon/daemon';
export type { SinkStats } from './sink/registry';
export type { SinkPolicy } from './sink/spec';
export { ShmRing, ShmSubscriber, openShmReader, type ShmSubscriberOptions, type GrantRequest, type OpenedShmReader, type ReleaseReason, type ShmGrant, type ShmRingOptions } from './shm';
