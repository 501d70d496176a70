import { isAbstractAddress, normalizeAddress, SUN_PATH_BYTES } from '../address';
import { argumentError, NativeErrorCode } from './errors';

/**
 * The sun_path bytes of an address, both ways. The syntax rules (`@name`,
 * leading NUL, sun_path size) are src/address.ts's; the addon receives the
 * exact bytes built here.
 */

const encoded = new Map<string, Buffer>();
const ENCODED_CACHE_LIMIT = 256;

/** The sun_path bytes for `address`. Cached: sinks send to the same few addresses over and over. */
export function encodeAddress(address: string): Buffer {
  const hit = encoded.get(address);
  if (hit) return hit;
  if (typeof address !== 'string') {
    throw argumentError('type', NativeErrorCode.invalidArgType, 'The socket address must be a string');
  }
  const abstract = isAbstractAddress(address);
  const name = abstract ? address.slice(1) : address;
  if (name.length === 0 || (!abstract && name.includes('\0'))) {
    throw argumentError('type', NativeErrorCode.invalidArgValue, `Invalid socket address ${JSON.stringify(address)}`);
  }
  const bytes = abstract ? Buffer.concat([Buffer.alloc(1), Buffer.from(name, 'utf8')]) : Buffer.from(name, 'utf8');
  if (bytes.length > SUN_PATH_BYTES) {
    throw argumentError(
      'range',
      NativeErrorCode.addressTooLong,
      `Socket address is ${bytes.length} bytes; sun_path holds ${SUN_PATH_BYTES}: ${normalizeAddress(address)}`,
    );
  }
  if (encoded.size >= ENCODED_CACHE_LIMIT) encoded.clear();
  encoded.set(address, bytes);
  return bytes;
}

/** sun_path bytes as reported by the kernel -> `@name`, a path, or null for an unbound sender. */
export function decodeAddress(bytes: Uint8Array | null): string | null {
  if (bytes === null || bytes.length === 0) return null;
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf[0] === 0) return '@' + buf.toString('utf8', 1);
  const end = buf.indexOf(0);
  return buf.toString('utf8', 0, end === -1 ? buf.length : end);
}
