/* POSIX message queue syscalls. Timeouts are turned into the absolute
 * CLOCK_REALTIME deadline the kernel wants once, so retrying after EINTR
 * keeps the caller's original deadline. */
#define _GNU_SOURCE
#include "common.h"
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <mqueue.h>
#include <poll.h>
#include <time.h>

#define RETRY_EINTR(expr) ({ __typeof__(expr) r_; do { r_ = (expr); } while (r_ < 0 && errno == EINTR); r_; })
#define NAME_BYTES (NAME_MAX + 2) /* leading slash + name + NUL */

static struct timespec deadline_after(int32_t timeout_ms) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  ts.tv_sec += timeout_ms / 1000;
  ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
  if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
  return ts;
}

/* A deadline already in the past: take a message only if one is queued. */
static const struct timespec NO_WAIT = {0, 0};

static bool arg_name(napi_env env, napi_value value, char *out) {
  napi_valuetype type = napi_undefined;
  size_t length = 0;
  napi_typeof(env, value, &type);
  if (type != napi_string) {
    throw_arg(env, false, "ERR_INVALID_ARG_TYPE", "The queue name must be a string");
    return false;
  }
  if (!check_status(env, napi_get_value_string_utf8(env, value, out, NAME_BYTES, &length))) return false;
  if (length >= NAME_BYTES - 1) {
    throw_arg(env, true, "ERR_OUT_OF_RANGE", "The queue name is longer than NAME_MAX");
    return false;
  }
  return true;
}

/* open(name, oflag, mode, depth, messageSize) -> handle. depth/messageSize of
 * 0 let the kernel pick its defaults (only meaningful with O_CREAT). */
static napi_value mq_open_js(napi_env env, napi_callback_info info) {
  GET_ARGS(5);
  char name[NAME_BYTES];
  int32_t oflag, mode, depth, size;
  if (!arg_name(env, argv[0], name) || !arg_int32(env, argv[1], "oflag", 0, INT32_MAX, &oflag) ||
      !arg_int32(env, argv[2], "mode", 0, 07777, &mode) || !arg_int32(env, argv[3], "depth", 0, INT32_MAX, &depth) ||
      !arg_int32(env, argv[4], "messageSize", 0, INT32_MAX, &size))
    return NULL;
  struct mq_attr attr = {.mq_maxmsg = depth, .mq_msgsize = size};
  bool with_attr = (oflag & O_CREAT) && depth > 0 && size > 0;
  mqd_t q = mq_open(name, oflag | O_CLOEXEC, (mode_t)mode, with_attr ? &attr : NULL);
  if (q == (mqd_t)-1) { throw_errno(env, errno, "mq_open", argv[0]); return NULL; }
  return handle_new(env, HANDLE_MQ, (int)q);
}

static napi_value mq_unlink_js(napi_env env, napi_callback_info info) {
  GET_ARGS(1);
  char name[NAME_BYTES];
  if (!arg_name(env, argv[0], name)) return NULL;
  if (mq_unlink(name) < 0) throw_errno(env, errno, "mq_unlink", argv[0]);
  return NULL;
}

/* send(h, data, priority, timeoutMs, target) -> true, or false on ETIMEDOUT.
 * timeoutMs < 0 waits as the descriptor's blocking mode says. */
static napi_value mq_send_js(napi_env env, napi_callback_info info) {
  GET_ARGS(5);
  byte_view data;
  int32_t priority, timeout;
  handle *h = handle_get(env, argv[0], HANDLE_MQ, argv[4], "mq_send");
  if (!h || !arg_bytes(env, argv[1], "data", &data) ||
      !arg_int32(env, argv[2], "priority", 0, 32767 /* MQ_PRIO_MAX - 1 */, &priority) ||
      !arg_int32(env, argv[3], "timeoutMs", -1, INT32_MAX, &timeout))
    return NULL;
  struct timespec deadline = timeout >= 0 ? deadline_after(timeout) : NO_WAIT;
  int rc = timeout < 0 ? RETRY_EINTR(mq_send(h->fd, (const char *)data.data, data.length, (unsigned)priority))
                       : RETRY_EINTR(mq_timedsend(h->fd, (const char *)data.data, data.length, (unsigned)priority, &deadline));
  if (rc == 0) return make_bool(env, true);
  if (errno == ETIMEDOUT) return make_bool(env, false);
  throw_errno(env, errno, timeout < 0 ? "mq_send" : "mq_timedsend", argv[4]);
  return NULL;
}

static ssize_t receive_one(handle *h, uint8_t *into, size_t size, unsigned *priority, const struct timespec *deadline) {
  if (deadline == NULL) return RETRY_EINTR(mq_receive(h->fd, (char *)into, size, priority));
  return RETRY_EINTR(mq_timedreceive(h->fd, (char *)into, size, priority, deadline));
}

/* receive(h, into, timeoutMs, target) -> { length, priority }, or null on ETIMEDOUT. */
static napi_value mq_receive_js(napi_env env, napi_callback_info info) {
  GET_ARGS(4);
  byte_view into;
  int32_t timeout;
  unsigned priority = 0;
  handle *h = handle_get(env, argv[0], HANDLE_MQ, argv[3], "mq_receive");
  if (!h || !arg_bytes(env, argv[1], "into", &into) || !arg_int32(env, argv[2], "timeoutMs", -1, INT32_MAX, &timeout))
    return NULL;
  struct timespec deadline = timeout >= 0 ? deadline_after(timeout) : NO_WAIT;
  ssize_t n = receive_one(h, into.data, into.length, &priority, timeout >= 0 ? &deadline : NULL);
  napi_value result = NULL;
  if (n < 0) {
    if (errno == ETIMEDOUT) { napi_get_null(env, &result); return result; }
    throw_errno(env, errno, timeout < 0 ? "mq_receive" : "mq_timedreceive", argv[3]);
    return NULL;
  }
  if (!check_status(env, napi_create_object(env, &result)) || !set_prop(env, result, "length", make_int(env, n)) ||
      !set_prop(env, result, "priority", make_int(env, priority)))
    return NULL;
  return result;
}

/* receiveBatch(h, into, offset, slotSize, max, lengths, priorities|null, timeoutMs, target) -> count.
 * Waits up to timeoutMs (<0: as the descriptor says) for the first message,
 * then takes only what is already queued. 0 means nothing arrived in time
 * (ETIMEDOUT, or EAGAIN on a non-blocking descriptor). */
static napi_value mq_receive_batch_js(napi_env env, napi_callback_info info) {
  GET_ARGS(9);
  byte_view into;
  int32_t offset, slot, max, timeout, *lengths, *priorities = NULL;
  handle *h = handle_get(env, argv[0], HANDLE_MQ, argv[8], "mq_timedreceive");
  if (!h || !arg_bytes(env, argv[1], "into", &into) || !arg_int32(env, argv[2], "offset", 0, INT32_MAX, &offset) ||
      !arg_int32(env, argv[3], "slotSize", 1, INT32_MAX, &slot) || !arg_int32(env, argv[4], "max", 1, INT32_MAX, &max) ||
      !arg_int32_array(env, argv[5], "lengths", (size_t)max, &lengths) ||
      (!arg_is_nullish(env, argv[6]) && !arg_int32_array(env, argv[6], "priorities", (size_t)max, &priorities)) ||
      !arg_int32(env, argv[7], "timeoutMs", -1, INT32_MAX, &timeout))
    return NULL;
  if ((uint64_t)offset + (uint64_t)slot * (uint64_t)max > into.length) {
    throw_arg(env, true, "ERR_OUT_OF_RANGE", "offset + slotSize * max exceeds the receive buffer");
    return NULL;
  }
  struct timespec deadline = timeout >= 0 ? deadline_after(timeout) : NO_WAIT;
  int32_t count = 0;
  while (count < max) {
    unsigned priority = 0;
    const struct timespec *wait = count > 0 ? &NO_WAIT : timeout >= 0 ? &deadline : NULL;
    ssize_t n = receive_one(h, into.data + offset + (size_t)count * (size_t)slot, (size_t)slot, &priority, wait);
    if (n < 0) {
      if (errno == ETIMEDOUT || errno == EAGAIN || count > 0) break;
      throw_errno(env, errno, timeout < 0 ? "mq_receive" : "mq_timedreceive", argv[8]);
      return NULL;
    }
    lengths[count] = (int32_t)n;
    if (priorities) priorities[count] = (int32_t)priority;
    count++;
  }
  return make_int(env, count);
}

static napi_value mq_attributes_js(napi_env env, napi_callback_info info) {
  GET_ARGS(2);
  struct mq_attr attr;
  napi_value result;
  handle *h = handle_get(env, argv[0], HANDLE_MQ, argv[1], "mq_getattr");
  if (!h) return NULL;
  if (mq_getattr(h->fd, &attr) < 0) { throw_errno(env, errno, "mq_getattr", argv[1]); return NULL; }
  if (!check_status(env, napi_create_object(env, &result)) || !set_prop(env, result, "depth", make_int(env, attr.mq_maxmsg)) ||
      !set_prop(env, result, "messageSize", make_int(env, attr.mq_msgsize)) ||
      !set_prop(env, result, "current", make_int(env, attr.mq_curmsgs)) ||
      !set_prop(env, result, "nonBlocking", make_bool(env, (attr.mq_flags & O_NONBLOCK) != 0)))
    return NULL;
  return result;
}

static napi_value mq_set_non_blocking_js(napi_env env, napi_callback_info info) {
  GET_ARGS(3);
  bool on;
  handle *h = handle_get(env, argv[0], HANDLE_MQ, argv[2], "mq_setattr");
  if (!h || !arg_bool(env, argv[1], &on)) return NULL;
  struct mq_attr attr = {.mq_flags = on ? O_NONBLOCK : 0};
  if (mq_setattr(h->fd, &attr, NULL) < 0) throw_errno(env, errno, "mq_setattr", argv[2]);
  return NULL;
}

/* poll(handles[], timeoutMs) -> bit i set when handles[i] has a message to read.
 * Linux queue descriptors are pollable files; EINTR is retried with the time left. */
static napi_value mq_poll_js(napi_env env, napi_callback_info info) {
  GET_ARGS(3);
  int32_t timeout;
  uint32_t count = 0;
  bool is_array = false;
  if (!check_status(env, napi_is_array(env, argv[0], &is_array))) return NULL;
  if (!is_array) { throw_arg(env, false, "ERR_INVALID_ARG_TYPE", "handles must be an array of queue handles"); return NULL; }
  if (!check_status(env, napi_get_array_length(env, argv[0], &count))) return NULL;
  if (count < 1 || count > 8) { throw_arg(env, true, "ERR_OUT_OF_RANGE", "poll takes 1 to 8 queue handles"); return NULL; }
  if (!arg_int32(env, argv[1], "timeoutMs", -1, INT32_MAX, &timeout)) return NULL;
  struct pollfd fds[8];
  for (uint32_t i = 0; i < count; i++) {
    napi_value item;
    if (!check_status(env, napi_get_element(env, argv[0], i, &item))) return NULL;
    handle *h = handle_get(env, item, HANDLE_MQ, argv[2], "poll");
    if (!h) return NULL;
    fds[i].fd = h->fd;
    fds[i].events = POLLIN;
    fds[i].revents = 0;
  }
  struct timespec start;
  clock_gettime(CLOCK_MONOTONIC, &start);
  int rc;
  int32_t left = timeout;
  while ((rc = poll(fds, count, left)) < 0 && errno == EINTR) {
    if (timeout < 0) continue;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t spent = (int64_t)(now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
    left = spent >= timeout ? 0 : (int32_t)(timeout - spent);
  }
  if (rc < 0) { throw_errno(env, errno, "poll", argv[2]); return NULL; }
  int32_t bits = 0;
  for (uint32_t i = 0; i < count; i++) if (fds[i].revents & POLLIN) bits |= 1 << i;
  return make_int(env, bits);
}

bool mq_register(napi_env env, napi_value exports) {
  static const export_fn fns[] = {
      {"mqOpen", mq_open_js}, {"mqUnlink", mq_unlink_js}, {"mqSend", mq_send_js}, {"mqReceive", mq_receive_js},
      {"mqReceiveBatch", mq_receive_batch_js}, {"mqAttributes", mq_attributes_js},
      {"mqSetNonBlocking", mq_set_non_blocking_js}, {"mqPoll", mq_poll_js},
  };
  return export_functions(env, exports, fns, sizeof fns / sizeof fns[0]) &&
         export_constant(env, exports, "O_RDONLY", O_RDONLY) && export_constant(env, exports, "O_WRONLY", O_WRONLY) &&
         export_constant(env, exports, "O_RDWR", O_RDWR) && export_constant(env, exports, "O_CREAT", O_CREAT) &&
         export_constant(env, exports, "O_EXCL", O_EXCL) && export_constant(env, exports, "O_NONBLOCK", O_NONBLOCK);
}
