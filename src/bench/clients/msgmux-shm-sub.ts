/** Reads the daemon's ring in shared memory (--control to attach), policy block: lossless. */
import { Subscriber } from '../../index';
import { runMsgmuxSink } from './msgmux-sink';

runMsgmuxSink((args) => Subscriber.connect({ transport: 'shm', control: args.get('control'), policy: 'block' }));
