/* AF_INET SOCK_DGRAM syscalls, for multicast. A UDP socket is a
 * HANDLE_SOCKET, so dgramSendBatch (on a connected socket), dgramRecvBatch
 * (without `from`), dgramPoll and close serve it too; only what differs from
 * AF_UNIX lives here. IPv4 addresses arrive as 4 bytes in network order;
 * `target` (the human-readable address) is used only in error messages. */
#define _GNU_SOURCE
#include "common.h"
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RETRY_EINTR(expr) ({ __typeof__(expr) r_; do { r_ = (expr); } while (r_ < 0 && errno == EINTR); r_; })
#define POLL_MAX 64

static bool arg_ip4(napi_env env, napi_value value, const char *name, struct in_addr *out) {
  byte_view bytes;
  if (!arg_bytes(env, value, name, &bytes)) return false;
  if (bytes.length != 4) {
    throw_arg(env, true, "ERR_INVALID_ARG_VALUE", "An IPv4 address must be 4 bytes");
    return false;
  }
  memcpy(&out->s_addr, bytes.data, 4);
  return true;
}

static bool arg_sockaddr(napi_env env, napi_value ip, napi_value port, struct sockaddr_in *out) {
  int32_t p;
  memset(out, 0, sizeof *out);
  out->sin_family = AF_INET;
  if (!arg_ip4(env, ip, "address", &out->sin_addr) || !arg_int32(env, port, "port", 0, 65535, &p)) return false;
  out->sin_port = htons((uint16_t)p);
  return true;
}

/* udpOpen(nonBlocking) */
static napi_value udp_open(napi_env env, napi_callback_info info) {
  GET_ARGS(1);
  bool non_blocking = false;
  if (!arg_bool(env, argv[0], &non_blocking)) return NULL;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | (non_blocking ? SOCK_NONBLOCK : 0), 0);
  if (fd < 0) { throw_errno(env, errno, "socket", NULL); return NULL; }
  return handle_new(env, HANDLE_SOCKET, fd);
}

/* udpBind(h, ip, port, reuseAddress, target): SO_REUSEADDR lets several receivers share a group's port. */
static napi_value udp_bind(napi_env env, napi_callback_info info) {
  GET_ARGS(5);
  struct sockaddr_in sa;
  bool reuse = false;
  handle *h = handle_get(env, argv[0], HANDLE_SOCKET, argv[4], "bind");
  if (!h || !arg_sockaddr(env, argv[1], argv[2], &sa) || !arg_bool(env, argv[3], &reuse)) return NULL;
  int one = 1;
  if (reuse && setsockopt(h->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) {
    throw_errno(env, errno, "setsockopt", argv[4]);
    return NULL;
  }
  if (bind(h->fd, (struct sockaddr *)&sa, sizeof sa) < 0) throw_errno(env, errno, "bind", argv[4]);
  return NULL;
}

/* udpConnect(h, ip, port, target): sendmmsg without an address then goes there. */
static napi_value udp_connect(napi_env env, napi_callback_info info) {
  GET_ARGS(4);
  struct sockaddr_in sa;
  handle *h = handle_get(env, argv[0], HANDLE_SOCKET, argv[3], "connect");
  if (!h || !arg_sockaddr(env, argv[1], argv[2], &sa)) return NULL;
  if (RETRY_EINTR(connect(h->fd, (struct sockaddr *)&sa, sizeof sa)) < 0) throw_errno(env, errno, "connect", argv[3]);
  return NULL;
}

/* udpMulticastOptions(h, ttl, interfaceIp, loopback, target): IP_MULTICAST_TTL, _IF, _LOOP. */
static napi_value udp_multicast_options(napi_env env, napi_callback_info info) {
  GET_ARGS(5);
  int32_t ttl;
  struct in_addr iface;
  bool loop = true;
  handle *h = handle_get(env, argv[0], HANDLE_SOCKET, argv[4], "setsockopt");
  if (!h || !arg_int32(env, argv[1], "ttl", 0, 255, &ttl) || !arg_ip4(env, argv[2], "interface", &iface) ||
      !arg_bool(env, argv[3], &loop))
    return NULL;
  int ttl_v = ttl, loop_v = loop ? 1 : 0;
  if (setsockopt(h->fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl_v, sizeof ttl_v) < 0 ||
      setsockopt(h->fd, IPPROTO_IP, IP_MULTICAST_IF, &iface, sizeof iface) < 0 ||
      setsockopt(h->fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop_v, sizeof loop_v) < 0)
    throw_errno(env, errno, "setsockopt", argv[4]);
  return NULL;
}

/* udpJoin(h, groupIp, interfaceIp, target): IP_ADD_MEMBERSHIP. */
static napi_value udp_join(napi_env env, napi_callback_info info) {
  GET_ARGS(4);
  struct ip_mreq mreq;
  handle *h = handle_get(env, argv[0], HANDLE_SOCKET, argv[3], "setsockopt");
  if (!h || !arg_ip4(env, argv[1], "group", &mreq.imr_multiaddr) || !arg_ip4(env, argv[2], "interface", &mreq.imr_interface))
    return NULL;
  if (setsockopt(h->fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof mreq) < 0) throw_errno(env, errno, "setsockopt", argv[3]);
  return NULL;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* pollMany(fds Int32Array, count, timeoutMs, revents Int32Array, events Int32Array|null)
 * -> ready count. Waits until any descriptor (a socket, a queue: Linux mq descriptors are
 * pollable, an eventfd) is ready for what events[i] asks (1 readable, 2 writable; without
 * events: readable). revents[i]: 1 readable, 2 writable, 4 hangup, 8 error; a negative fd
 * is ignored. EINTR is retried with the remaining time. */
static napi_value poll_many(napi_env env, napi_callback_info info) {
  GET_ARGS(5);
  int32_t count, timeout, *fd_list, *revents, *wanted = NULL;
  if (!arg_int32(env, argv[1], "count", 0, POLL_MAX, &count) ||
      !arg_int32_array(env, argv[0], "fds", (size_t)count, &fd_list) ||
      !arg_int32(env, argv[2], "timeoutMs", -1, INT32_MAX, &timeout) ||
      !arg_int32_array(env, argv[3], "revents", (size_t)count, &revents) ||
      (!arg_is_nullish(env, argv[4]) && !arg_int32_array(env, argv[4], "events", (size_t)count, &wanted)))
    return NULL;
  struct pollfd fds[POLL_MAX];
  for (int32_t i = 0; i < count; i++) {
    int32_t w = wanted ? wanted[i] : 1;
    fds[i] = (struct pollfd){.fd = fd_list[i], .events = (short)(((w & 1) ? POLLIN : 0) | ((w & 2) ? POLLOUT : 0))};
  }
  int64_t deadline = timeout >= 0 ? now_ms() + timeout : -1;
  int n;
  for (;;) {
    int64_t left = deadline < 0 ? -1 : deadline - now_ms();
    n = poll(fds, (nfds_t)count, deadline < 0 ? -1 : (int)(left > 0 ? left : 0));
    if (n >= 0 || errno != EINTR) break;
  }
  if (n < 0) { throw_errno(env, errno, "poll", NULL); return NULL; }
  for (int32_t i = 0; i < count; i++) {
    short r = fds[i].revents;
    revents[i] = ((r & POLLIN) ? 1 : 0) | ((r & POLLOUT) ? 2 : 0) | ((r & POLLHUP) ? 4 : 0) | ((r & (POLLERR | POLLNVAL)) ? 8 : 0);
  }
  return make_int(env, n);
}

bool udp_register(napi_env env, napi_value exports) {
  static const export_fn fns[] = {
      {"udpOpen", udp_open}, {"udpBind", udp_bind}, {"udpConnect", udp_connect},
      {"udpMulticastOptions", udp_multicast_options}, {"udpJoin", udp_join}, {"pollMany", poll_many},
  };
  return export_functions(env, exports, fns, sizeof fns / sizeof fns[0]) && export_constant(env, exports, "POLL_MAX", POLL_MAX);
}
