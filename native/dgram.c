/* AF_UNIX SOCK_DGRAM syscalls. Addresses arrive as the exact sun_path bytes
 * (a leading NUL for the abstract namespace); the wrapper builds them and
 * passes the human-readable form as `target`, used only in error messages. */
#define _GNU_SOURCE
#include "common.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define BATCH_MAX 1024 /* UIO_MAXIOV: the kernel's cap on one sendmmsg/recvmmsg */
#define RETRY_EINTR(expr) ({ __typeof__(expr) r_; do { r_ = (expr); } while (r_ < 0 && errno == EINTR); r_; })

typedef struct { struct sockaddr_un sa; socklen_t len; } unix_addr;

static bool arg_address(napi_env env, napi_value value, unix_addr *out) {
  byte_view bytes;
  if (!arg_bytes(env, value, "address", &bytes)) return false;
  if (bytes.length == 0) {
    throw_arg(env, false, "ERR_INVALID_ARG_VALUE", "The socket address must not be empty");
    return false;
  }
  if (bytes.length > sizeof out->sa.sun_path) {
    throw_arg(env, true, "ERR_MSGMUX_ADDRESS_TOO_LONG", "The socket address is longer than sun_path (108 bytes)");
    return false;
  }
  memset(&out->sa, 0, sizeof out->sa);
  out->sa.sun_family = AF_UNIX;
  memcpy(out->sa.sun_path, bytes.data, bytes.length);
  /* Exact length: for abstract names every byte counts, trailing NULs included. */
  out->len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + bytes.length);
  return true;
}

/* Optional address: null/undefined means "the connected peer". */
static bool arg_optional_address(napi_env env, napi_value value, unix_addr *out, bool *present) {
  *present = !arg_is_nullish(env, value);
  return !*present || arg_address(env, value, out);
}

/* The sender's address as raw sun_path bytes, or null for an unbound sender. */
static napi_value address_bytes(napi_env env, const struct sockaddr_un *sa, socklen_t len) {
  napi_value out = NULL;
  size_t base = offsetof(struct sockaddr_un, sun_path);
  if (len <= base) { napi_get_null(env, &out); return out; }
  napi_create_buffer_copy(env, len - base, sa->sun_path, NULL, &out);
  return out;
}

static napi_value dgram_open(napi_env env, napi_callback_info info) {
  GET_ARGS(1);
  bool non_blocking = false;
  if (!arg_bool(env, argv[0], &non_blocking)) return NULL;
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | (non_blocking ? SOCK_NONBLOCK : 0), 0);
  if (fd < 0) { throw_errno(env, errno, "socket", NULL); return NULL; }
  return handle_new(env, HANDLE_SOCKET, fd);
}

/* bind(h, address, target) and connect(h, address, target) */
static napi_value bind_or_connect(napi_env env, napi_callback_info info, bool is_bind) {
  GET_ARGS(3);
  const char *call = is_bind ? "bind" : "connect";
  unix_addr addr;
  handle *h = handle_get(env, argv[0], HANDLE_SOCKET, argv[2], call);
  if (!h || !arg_address(env, argv[1], &addr)) return NULL;
  int rc = is_bind ? bind(h->fd, (struct sockaddr *)&addr.sa, addr.len)
                   : RETRY_EINTR(connect(h->fd, (struct sockaddr *)&addr.sa, addr.len));
  if (rc < 0) throw_errno(env, errno, call, argv[2]);
  return NULL;
}
static napi_value dgram_bind(napi_env env, napi_callback_info info) { return bind_or_connect(env, info, true); }
static napi_value dgram_connect(napi_env env, napi_callback_info info) { return bind_or_connect(env, info, false); }

/* send(h, data, address|null, target) -> bytes sent */
static napi_value dgram_send(napi_env env, napi_callback_info info) {
  GET_ARGS(4);
  byte_view data;
  unix_addr addr;
  bool has_addr;
  handle *h = handle_get(env, argv[0], HANDLE_SOCKET, argv[3], "sendto");
  if (!h || !arg_bytes(env, argv[1], "data", &data) || !arg_optional_address(env, argv[2], &addr, &has_addr))
    return NULL;
  ssize_t n = RETRY_EINTR(sendto(h->fd, data.data, data.length, MSG_NOSIGNAL,
                                 has_addr ? (struct sockaddr *)&addr.sa : NULL, has_addr ? addr.len : 0));
  if (n < 0) { throw_errno(env, errno, "sendto", argv[3]); return NULL; }
  return make_int(env, n);
}

/* The regions of a sendBatch, checked: every one lies inside the buffer, so a bad one sends nothing. */
typedef struct { byte_view bytes; int32_t count, *offsets, *lengths; } regions;

static bool arg_regions(napi_env env, napi_value *argv, regions *r) {
  if (!arg_bytes(env, argv[0], "buffer", &r->bytes) || !arg_int32(env, argv[3], "count", 0, INT32_MAX, &r->count) ||
      !arg_int32_array(env, argv[1], "offsets", (size_t)r->count, &r->offsets) ||
      !arg_int32_array(env, argv[2], "lengths", (size_t)r->count, &r->lengths))
    return false;
  for (int32_t i = 0; i < r->count; i++) {
    if (r->offsets[i] < 0 || r->lengths[i] < 0 || (uint64_t)r->offsets[i] + (uint64_t)r->lengths[i] > r->bytes.length) {
      char msg[160];
      snprintf(msg, sizeof msg, "Record %d (offset %d, length %d) lies outside the %zu-byte buffer", i, r->offsets[i],
               r->lengths[i], r->bytes.length);
      throw_arg(env, true, "ERR_OUT_OF_RANGE", msg);
      return false;
    }
  }
  return true;
}

/* sendmmsg of regions [from, count), up to BATCH_MAX per call, until one call takes fewer than it was given.
 * Returns how many went (errno set when that is fewer), or -1 when the first call failed. */
static int32_t send_regions(handle *h, struct mmsghdr *msgs, struct iovec *iov, const regions *r, int32_t from,
                            const unix_addr *addr) {
  int32_t sent = 0;
  while (from + sent < r->count) {
    int32_t at = from + sent, chunk = r->count - at < BATCH_MAX ? r->count - at : BATCH_MAX;
    for (int32_t i = 0; i < chunk; i++) {
      iov[i].iov_base = r->bytes.data + r->offsets[at + i];
      iov[i].iov_len = (size_t)r->lengths[at + i];
      memset(&msgs[i].msg_hdr, 0, sizeof msgs[i].msg_hdr);
      msgs[i].msg_hdr.msg_iov = &iov[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      if (addr) { msgs[i].msg_hdr.msg_name = (void *)&addr->sa; msgs[i].msg_hdr.msg_namelen = addr->len; }
    }
    int n = RETRY_EINTR(sendmmsg(h->fd, msgs, (unsigned)chunk, MSG_NOSIGNAL));
    if (n < 0) return sent > 0 ? sent : -1; /* progress first; the error recurs on the next call */
    sent += n;
    if (n < chunk) { errno = EAGAIN; break; }
  }
  return sent;
}

static struct mmsghdr *send_scratch(napi_env env, handle *h, int32_t count, struct iovec **iov) {
  size_t chunk_max = count < BATCH_MAX ? (size_t)count : BATCH_MAX;
  struct mmsghdr *msgs = handle_scratch(env, h, chunk_max * (sizeof(struct mmsghdr) + sizeof(struct iovec)) + 1);
  if (msgs) *iov = (struct iovec *)(msgs + chunk_max);
  return msgs;
}

/* sendBatch(h, bytes, offsets, lengths, count, address|null, target) -> sent.
 * Every region is checked before anything is sent, so a bad one sends nothing. */
static napi_value dgram_send_batch(napi_env env, napi_callback_info info) {
  GET_ARGS(7);
  regions r;
  unix_addr addr;
  bool has_addr;
  struct iovec *iov;
  handle *h = handle_get(env, argv[0], HANDLE_SOCKET, argv[6], "sendmmsg");
  if (!h || !arg_regions(env, argv + 1, &r) || !arg_optional_address(env, argv[5], &addr, &has_addr)) return NULL;
  struct mmsghdr *msgs = send_scratch(env, h, r.count, &iov);
  if (!msgs) return NULL;
  int32_t sent = r.count > 0 ? send_regions(h, msgs, iov, &r, 0, has_addr ? &addr : NULL) : 0;
  if (sent < 0) { throw_errno(env, errno, "sendmmsg", argv[6]); return NULL; }
  return make_int(env, sent);
}

static int64_t monotonic_ms(void);

/* sendBatchWaiting(h, bytes, offsets, lengths, count, doorbellFd, timeoutMs, ended, target) -> sent.
 * sendBatch to the connected peer on a non-blocking socket that waits for room in the same call: when the peer
 * takes no more, poll(2)s the socket (POLLOUT) and doorbellFd (POLLIN; -1: none) for up to timeoutMs in all (-1: no
 * limit), and goes on. Returns once all went, or the doorbell is readable (ended[0] = 1; it is not cleared), or
 * the time is up (2), or a poll said writable and the send after it still took nothing (0; as when all went).
 * Throws when a send fails otherwise before anything went (after, the error recurs on the next call). */
static napi_value dgram_send_batch_waiting(napi_env env, napi_callback_info info) {
  GET_ARGS(9);
  regions r;
  int32_t doorbell, timeout, *ended;
  struct iovec *iov;
  handle *h = handle_get(env, argv[0], HANDLE_SOCKET, argv[8], "sendmmsg");
  if (!h || !arg_regions(env, argv + 1, &r) || !arg_int32(env, argv[5], "doorbellFd", -1, INT32_MAX, &doorbell) ||
      !arg_int32(env, argv[6], "timeoutMs", -1, INT32_MAX, &timeout) || !arg_int32_array(env, argv[7], "ended", 1, &ended))
    return NULL;
  struct mmsghdr *msgs = send_scratch(env, h, r.count, &iov);
  if (!msgs) return NULL;
  struct pollfd fds[2] = {{.fd = h->fd, .events = POLLOUT}, {.fd = doorbell, .events = POLLIN}};
  int64_t deadline = timeout < 0 ? -1 : monotonic_ms() + timeout;
  int32_t sent = 0;
  bool full = false, polled = false; /* full: the last send stopped short; polled: a poll said writable since */
  ended[0] = 0;
  while (sent < r.count) {
    if (!full) {
      int32_t n = send_regions(h, msgs, iov, &r, sent, NULL);
      if (n < 0 && errno != EAGAIN) {
        if (sent > 0) break;
        throw_errno(env, errno, "sendmmsg", argv[8]);
        return NULL;
      }
      if (n > 0) { sent += n; polled = false; }
      if (sent == r.count) break;
      if (n <= 0 && polled) break; /* writable yet full (see target.ts): the caller backs off */
      full = true; /* short of room, or of an error that the poll then reports as writable and the send again */
    }
    int64_t left = deadline < 0 ? -1 : deadline - monotonic_ms();
    int rc = RETRY_EINTR(poll(fds, doorbell < 0 ? 1 : 2, deadline < 0 ? -1 : (int)(left > 0 ? left : 0)));
    if (rc < 0) {
      if (sent > 0) break;
      throw_errno(env, errno, "poll", argv[8]);
      return NULL;
    }
    if (doorbell >= 0 && fds[1].revents) { ended[0] = 1; break; }
    if (rc == 0) { ended[0] = 2; break; }
    full = false; /* writable, or an error or hangup that the next send reports */
    polled = true;
  }
  return make_int(env, sent);
}

/* recv(h, into, target, dontWait) -> { length, from, cred? }. length is the datagram's
 * real size (MSG_TRUNC), so length > into.byteLength means it was truncated.
 * With dontWait (MSG_DONTWAIT, whatever the socket's mode): null when nothing is queued. */
static napi_value dgram_recv(napi_env env, napi_callback_info info) {
  GET_ARGS(4);
  byte_view into;
  bool dont_wait = false;
  handle *h = handle_get(env, argv[0], HANDLE_SOCKET, argv[2], "recvmsg");
  if (!h || !arg_bytes(env, argv[1], "into", &into)) return NULL;
  if (!arg_is_nullish(env, argv[3]) && !arg_bool(env, argv[3], &dont_wait)) return NULL;
  struct sockaddr_un from;
  union { char buf[CMSG_SPACE(sizeof(struct ucred))]; struct cmsghdr align; } control;
  struct iovec iov = {into.data, into.length};
  struct msghdr msg = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &iov, .msg_iovlen = 1,
                       .msg_control = control.buf, .msg_controllen = sizeof control.buf};
  ssize_t n = RETRY_EINTR(recvmsg(h->fd, &msg, MSG_TRUNC | MSG_CMSG_CLOEXEC | (dont_wait ? MSG_DONTWAIT : 0)));
  if (n < 0 && dont_wait && errno == EAGAIN) {
    napi_value none;
    napi_get_null(env, &none);
    return none;
  }
  if (n < 0) { throw_errno(env, errno, "recvmsg", argv[2]); return NULL; }

  napi_value result;
  if (!check_status(env, napi_create_object(env, &result)) || !set_prop(env, result, "length", make_int(env, n)) ||
      !set_prop(env, result, "from", address_bytes(env, &from, msg.msg_namelen)))
    return NULL;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_CREDENTIALS) continue;
    struct ucred cred;
    memcpy(&cred, CMSG_DATA(c), sizeof cred);
    napi_value obj;
    if (!check_status(env, napi_create_object(env, &obj)) || !set_prop(env, obj, "pid", make_int(env, cred.pid)) ||
        !set_prop(env, obj, "uid", make_int(env, cred.uid)) || !set_prop(env, obj, "gid", make_int(env, cred.gid)) ||
        !set_prop(env, result, "cred", obj))
      return NULL;
  }
  return result;
}

/* recvBatch(h, into, slotSize, max, lengths, from|null, target) -> count.
 * Blocks (on a blocking socket) for the first datagram only, then takes what
 * is queued (MSG_WAITFORONE). Returns 0 when non-blocking and nothing is queued. */
static napi_value dgram_recv_batch(napi_env env, napi_callback_info info) {
  GET_ARGS(7);
  byte_view into;
  int32_t slot, max, *lengths;
  bool want_from = false;
  handle *h = handle_get(env, argv[0], HANDLE_SOCKET, argv[6], "recvmmsg");
  if (!h || !arg_bytes(env, argv[1], "into", &into) || !arg_int32(env, argv[2], "slotSize", 1, INT32_MAX, &slot) ||
      !arg_int32(env, argv[3], "max", 1, BATCH_MAX, &max) || !arg_int32_array(env, argv[4], "lengths", (size_t)max, &lengths))
    return NULL;
  if ((uint64_t)slot * (uint64_t)max > into.length) {
    throw_arg(env, true, "ERR_OUT_OF_RANGE", "slotSize * max exceeds the receive buffer");
    return NULL;
  }
  if (!arg_is_nullish(env, argv[5])) {
    if (napi_is_array(env, argv[5], &want_from) != napi_ok || !want_from) {
      throw_arg(env, false, "ERR_INVALID_ARG_TYPE", "The \"from\" argument must be an Array");
      return NULL;
    }
  }
  size_t per = sizeof(struct mmsghdr) + sizeof(struct iovec) + sizeof(struct sockaddr_un);
  struct mmsghdr *msgs = handle_scratch(env, h, (size_t)max * per);
  if (!msgs) return NULL;
  struct iovec *iov = (struct iovec *)(msgs + max);
  struct sockaddr_un *names = (struct sockaddr_un *)(iov + max);
  for (int32_t i = 0; i < max; i++) {
    iov[i].iov_base = into.data + (size_t)i * (size_t)slot;
    iov[i].iov_len = (size_t)slot;
    memset(&msgs[i], 0, sizeof msgs[i]);
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    if (want_from) { msgs[i].msg_hdr.msg_name = &names[i]; msgs[i].msg_hdr.msg_namelen = sizeof names[i]; }
  }
  int n = RETRY_EINTR(recvmmsg(h->fd, msgs, (unsigned)max, MSG_WAITFORONE | MSG_TRUNC | MSG_CMSG_CLOEXEC, NULL));
  if (n < 0) {
    if (errno == EAGAIN) return make_int(env, 0);
    throw_errno(env, errno, "recvmmsg", argv[6]);
    return NULL;
  }
  for (int i = 0; i < n; i++) {
    lengths[i] = (int32_t)msgs[i].msg_len;
    if (want_from &&
        !check_status(env, napi_set_element(env, argv[5], (uint32_t)i,
                                            address_bytes(env, &names[i], msgs[i].msg_hdr.msg_namelen))))
      return NULL;
  }
  return make_int(env, n);
}

static int64_t monotonic_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* poll(h, events, timeoutMs, target) -> revents bits: 1 readable, 2 writable,
 * 4 hangup, 8 error. EINTR is retried with the remaining time. */
static napi_value dgram_poll(napi_env env, napi_callback_info info) {
  GET_ARGS(4);
  int32_t events, timeout;
  handle *h = handle_get(env, argv[0], HANDLE_SOCKET, argv[3], "poll");
  if (!h || !arg_int32(env, argv[1], "events", 0, 3, &events) || !arg_int32(env, argv[2], "timeoutMs", -1, INT32_MAX, &timeout))
    return NULL;
  struct pollfd p = {.fd = h->fd, .events = (short)(((events & 1) ? POLLIN : 0) | ((events & 2) ? POLLOUT : 0))};
  int64_t deadline = timeout < 0 ? 0 : monotonic_ms() + timeout;
  int rc;
  while ((rc = poll(&p, 1, timeout)) < 0 && errno == EINTR) {
    if (timeout < 0) continue;
    int64_t left = deadline - monotonic_ms();
    timeout = left > 0 ? (int32_t)left : 0;
  }
  if (rc < 0) { throw_errno(env, errno, "poll", argv[3]); return NULL; }
  short r = rc > 0 ? p.revents : 0;
  return make_int(env, ((r & POLLIN) ? 1 : 0) | ((r & POLLOUT) ? 2 : 0) | ((r & POLLHUP) ? 4 : 0) | ((r & POLLERR) ? 8 : 0));
}

static napi_value dgram_set_non_blocking(napi_env env, napi_callback_info info) {
  GET_ARGS(2);
  bool on;
  handle *h = handle_get(env, argv[0], HANDLE_SOCKET, NULL, "fcntl");
  if (!h || !arg_bool(env, argv[1], &on)) return NULL;
  int flags = fcntl(h->fd, F_GETFL);
  if (flags < 0 || fcntl(h->fd, F_SETFL, on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK) < 0)
    throw_errno(env, errno, "fcntl", NULL);
  return NULL;
}

/* setOption(h, SO_*, value) / getOption(h, SO_*): integer SOL_SOCKET options. */
static napi_value dgram_set_option(napi_env env, napi_callback_info info) {
  GET_ARGS(3);
  int32_t name, value;
  handle *h = handle_get(env, argv[0], HANDLE_SOCKET, NULL, "setsockopt");
  if (!h || !arg_int32(env, argv[1], "option", 0, INT32_MAX, &name) || !arg_int32(env, argv[2], "value", 0, INT32_MAX, &value))
    return NULL;
  if (setsockopt(h->fd, SOL_SOCKET, name, &value, sizeof value) < 0) throw_errno(env, errno, "setsockopt", NULL);
  return NULL;
}

static napi_value dgram_get_option(napi_env env, napi_callback_info info) {
  GET_ARGS(2);
  int32_t name;
  int value = 0;
  socklen_t len = sizeof value;
  handle *h = handle_get(env, argv[0], HANDLE_SOCKET, NULL, "getsockopt");
  if (!h || !arg_int32(env, argv[1], "option", 0, INT32_MAX, &name)) return NULL;
  if (getsockopt(h->fd, SOL_SOCKET, name, &value, &len) < 0) { throw_errno(env, errno, "getsockopt", NULL); return NULL; }
  return make_int(env, value);
}

bool dgram_register(napi_env env, napi_value exports) {
  static const export_fn fns[] = {
      {"dgramOpen", dgram_open}, {"dgramBind", dgram_bind}, {"dgramConnect", dgram_connect},
      {"dgramSend", dgram_send}, {"dgramSendBatch", dgram_send_batch},
      {"dgramSendBatchWaiting", dgram_send_batch_waiting}, {"dgramRecv", dgram_recv},
      {"dgramRecvBatch", dgram_recv_batch}, {"dgramPoll", dgram_poll},
      {"dgramSetNonBlocking", dgram_set_non_blocking}, {"dgramSetOption", dgram_set_option},
      {"dgramGetOption", dgram_get_option},
  };
  return export_functions(env, exports, fns, sizeof fns / sizeof fns[0]) &&
         export_constant(env, exports, "SO_SNDBUF", SO_SNDBUF) && export_constant(env, exports, "SO_RCVBUF", SO_RCVBUF) &&
         export_constant(env, exports, "SO_PASSCRED", SO_PASSCRED) && export_constant(env, exports, "BATCH_MAX", BATCH_MAX);
}
