/**
 * Socket address syntax, in one place. A string address is either
 * - a filesystem path: `/run/x.sock` (the native binding also takes a relative one);
 * - an abstract name: `@name` or `\0name` (the kernel sees a leading NUL and
 *   exactly the bytes of the name, no terminator). Abstract names are always
 *   shown and keyed as `@name`.
 *
 *   isAbstractAddress(address): boolean
 *   normalizeAddress(address): string                     leading NUL -> '@'
 *   socketAddressProblem(address): { code, message } | null   why it cannot be a daemon-side address
 */
import { ErrorCode } from './errors';

/** sizeof(sockaddr_un.sun_path) on Linux: a filesystem path needs its NUL, an abstract name uses the first byte. */
export const SUN_PATH_BYTES = 108;

export function isAbstractAddress(address: string): boolean {
  return address.startsWith('@') || address.startsWith('\0');
}

/** `\0name` -> `@name`; anything else unchanged. The form used in messages, replies and as a key. */
export function normalizeAddress(address: string): string {
  return address.startsWith('\0') ? '@' + address.slice(1) : address;
}

/** Why `address` cannot be a datagram socket address (`/path`, `@name`, `\0name`), or null when it can. */
export function socketAddressProblem(address: string): { code: string; message: string } | null {
  const normalized = normalizeAddress(address);
  const abstract = normalized.startsWith('@');
  if (!abstract && !normalized.startsWith('/')) {
    return { code: ErrorCode.BAD_REQUEST, message: 'must be a socket path: /path, @name or a leading NUL' };
  }
  const name = abstract ? normalized.slice(1) : normalized;
  if (name.length === 0) return { code: ErrorCode.BAD_REQUEST, message: 'must name a socket after "@"' };
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(name)) {
    return { code: ErrorCode.BAD_REQUEST, message: 'must not contain control characters' };
  }
  const bytes = Buffer.byteLength(name);
  const max = SUN_PATH_BYTES - 1;
  if (bytes > max) {
    const what = abstract ? 'an abstract name' : 'a filesystem socket path';
    return { code: ErrorCode.PATH_TOO_LONG, message: `is ${bytes} bytes; ${what} fits in at most ${max} (the kernel's sun_path; this cannot be raised: use a shorter path or an abstract @name)` };
  }
  return null;
}
