/*
 * The reference broker: one process, one thread. Sinks register by sending
 * their socket path to --control (as with msgmux); it takes whatever is
 * queued on --queue (mq_receive, up to a batch) and sendmmsg's the batch to
 * each sink's connected, blocking socket. The floor a broker in C reaches.
 */
#include "bench.h"
#include "dgram.h"
#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>

#define BATCH 64
#define MAX_SINKS 256

static volatile sig_atomic_t stop;
static void on_term(int sig) { (void)sig; stop = 1; }

int main(int argc, char **argv) {
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  const char *queue = arg(argc, argv, "queue", NULL);
  struct mq_attr attr = { .mq_maxmsg = atol(arg(argc, argv, "depth", "10")), .mq_msgsize = atol(arg(argc, argv, "msgsize", "8192")) };
  mqd_t q = mq_open(queue, O_CREAT | O_RDONLY | O_NONBLOCK, 0600, &attr);
  if (q == (mqd_t)-1) die("mq_open");
  int control = dgram_socket();
  struct sockaddr_un a;
  socklen_t alen = unix_addr(arg(argc, argv, "control", NULL), &a);
  if (bind(control, (struct sockaddr *)&a, alen) < 0) die("bind control");
  signal(SIGTERM, on_term);
  signal(SIGINT, on_term);
  int sinks[MAX_SINKS], nsinks = 0;
  static char bufs[BATCH][65536];
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  say("{\"ready\":true}");
  while (!stop) {
    /* With no sink, leave messages queued: publishers block, nothing is lost. */
    struct pollfd p[2] = { { control, POLLIN, 0 }, { (int)q, nsinks ? POLLIN : 0, 0 } };
    if (poll(p, 2, TICK_MS) < 0) { if (errno == EINTR) continue; die("poll"); }
    if (p[0].revents & POLLIN) {
      char name[128];
      struct sockaddr_un from;
      socklen_t flen = sizeof from;
      ssize_t n = recvfrom(control, name, sizeof name - 1, 0, (struct sockaddr *)&from, &flen);
      if (n > 0 && nsinks < MAX_SINKS) {
        name[n] = 0;
        sinks[nsinks] = dgram_socket();
        dgram_connect(sinks[nsinks++], name);
        sendto(control, "{\"ok\":true}", 11, 0, (struct sockaddr *)&from, flen);
      }
    }
    if (!(p[1].revents & POLLIN)) continue;
    int n = 0;
    for (; n < BATCH; n++) {
      ssize_t got = mq_receive(q, bufs[n], sizeof bufs[n], NULL);
      if (got < 0) { if (errno == EAGAIN) break; die("mq_receive"); }
      iov[n] = (struct iovec){ bufs[n], (size_t)got };
      msgs[n] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[n], .msg_iovlen = 1 } };
    }
    for (int s = 0; s < nsinks; s++)
      for (int sent = 0; sent < n;) {
        int r = sendmmsg(sinks[s], msgs + sent, (unsigned)(n - sent), 0);
        if (r >= 0) { sent += r; continue; }
        if (errno == EINTR) continue;
        if (errno != ECONNREFUSED && errno != ENOENT) die("sendmmsg");
        close(sinks[s]); /* the sink is gone: forget it, as msgmux does */
        sinks[s--] = sinks[--nsinks];
        break;
      }
  }
  mq_unlink(queue);
  return 0;
}
