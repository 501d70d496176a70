/**
 * A sink worker thread: a piscina task that owns its thread for one sink's
 * whole life, draining the ring to it (src/sink/drainer.ts).
 */
import { drainToSink } from '../src/sink/drainer';

export default drainToSink;
