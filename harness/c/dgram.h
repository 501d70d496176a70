/* AF_UNIX datagram addresses: "@name" is abstract (leading NUL), anything else a filesystem path. */
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

static socklen_t unix_addr(const char *name, struct sockaddr_un *a) {
  memset(a, 0, sizeof *a);
  a->sun_family = AF_UNIX;
  size_t n = strlen(name);
  if (n >= sizeof a->sun_path) fail("socket name too long", name);
  memcpy(a->sun_path, name, n);
  if (name[0] == '@') { a->sun_path[0] = 0; return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n); }
  return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
}

static int dgram_socket(void) {
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) die("socket");
  return fd;
}

static void dgram_connect(int fd, const char *name) {
  struct sockaddr_un a;
  socklen_t len = unix_addr(name, &a);
  if (connect(fd, (struct sockaddr *)&a, len) < 0) die(name);
}
