export * from './ring';
export { MsgmuxError } from './errors';
