export { ShmRing, type GrantRequest, type ReleaseReason, type ShmGrant, type ShmRingOptions } from './shm-ring';
export { openShmReader, type OpenedShmReader } from './shm-reader';
export { ShmSubscriber, type ShmSubscriberOptions } from './shm-subscriber';
