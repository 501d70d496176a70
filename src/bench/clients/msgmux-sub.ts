/** Subscribes with msgmux's own Subscriber (--control), policy block: lossless. */
import { Subscriber } from '../../index';
import { runMsgmuxSink } from './msgmux-sink';

runMsgmuxSink((args) => Subscriber.connect({ control: args.get('control'), policy: 'block', maxMessage: Math.max(args.size, 8192) }));
