export * from './ring';
export { MsgmuxError } from './errors';
export { Publisher, type PublisherOptions } from './publisher';
export { Subscriber, type SubscriberOptions } from './subscriber';
export { controlRequest, DEFAULT_CONTROL } from './control-client';
