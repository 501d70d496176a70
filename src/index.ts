export * from './ring';
export { MsgmuxError } from './errors';
export { Publisher, type PublisherOptions } from './publisher';
export { Subscriber, type SubscriberOptions } from './subscriber';
export { controlRequest, DEFAULT_CONTROL } from './control-client';
export { ShmRing, openShmReader, type GrantRequest, type OpenedShmReader, type ReleaseReason, type ShmGrant, type ShmRingOptions } from './shm';
