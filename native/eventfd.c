/* eventfd(2): a doorbell one thread rings to end another thread's poll(2).
 * The ringing side owns the descriptor (a handle); the waiting side only
 * polls it and clears it by number, and must be done with it before the
 * owner closes it (see src/native/doorbell.ts). */
#define _GNU_SOURCE
#include "common.h"
#include <errno.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

/* eventfdOpen() -> handle; non-blocking, close-on-exec. */
static napi_value eventfd_open(napi_env env, napi_callback_info info) {
  (void)info;
  int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) { throw_errno(env, errno, "eventfd", NULL); return NULL; }
  return handle_new(env, HANDLE_EVENTFD, fd);
}

/* eventfdSignal(h): adds 1 to the counter, making the descriptor readable. */
static napi_value eventfd_signal(napi_env env, napi_callback_info info) {
  GET_ARGS(1);
  handle *h = handle_get(env, argv[0], HANDLE_EVENTFD, NULL, "write");
  if (!h) return NULL;
  uint64_t one = 1;
  ssize_t n;
  do { n = write(h->fd, &one, sizeof one); } while (n < 0 && errno == EINTR);
  /* EAGAIN: the counter is at its maximum, so the descriptor is readable anyway. */
  if (n < 0 && errno != EAGAIN) throw_errno(env, errno, "write", NULL);
  return NULL;
}

/* eventfdClear(fd) -> whether it had been signalled. Resets the counter to 0. */
static napi_value eventfd_clear(napi_env env, napi_callback_info info) {
  GET_ARGS(1);
  int32_t fd;
  if (!arg_int32(env, argv[0], "fd", 0, INT32_MAX, &fd)) return NULL;
  uint64_t value = 0;
  ssize_t n;
  do { n = read(fd, &value, sizeof value); } while (n < 0 && errno == EINTR);
  if (n < 0 && errno != EAGAIN) { throw_errno(env, errno, "read", NULL); return NULL; }
  return make_bool(env, n == (ssize_t)sizeof value && value > 0);
}

bool eventfd_register(napi_env env, napi_value exports) {
  static const export_fn fns[] = {
      {"eventfdOpen", eventfd_open}, {"eventfdSignal", eventfd_signal}, {"eventfdClear", eventfd_clear},
  };
  return export_functions(env, exports, fns, sizeof fns / sizeof fns[0]);
}
