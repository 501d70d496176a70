/*
 * What every C client of `msgmux bench` shares: the message layout, the
 * command line, the line protocol with the harness, the publisher's phase
 * loop and the sink's sequence checks. Mirrors src/bench/clients/ (the Node
 * clients), so every client counts alike.
 *
 * Message: bytes 0-7 sequence number, 8-15 CLOCK_MONOTONIC ns at send (both
 * little-endian), the rest filler. Sequence numbers run on across phases.
 * With --publishers N, publisher --publisher P (0 … N-1) sends the numbers of
 * each phase whose offset from the phase's first is P modulo N, so the N
 * together send every number once and the brokers carry plain messages; a
 * sink given --publishers N knows each number's publisher from it and checks
 * order per publisher. Harness -> client: "go" lines on stdin
 * (publisher: one per phase), EOF = exit. Client -> harness: one JSON object
 * per line on stdout: {"ready":true}, then one report per phase.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_PHASES 8
#define MAX_PUBLISHERS 64
#define TICK_MS 200

typedef struct { char kind[8]; long count; long rate; } phase_t;

static inline uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void die(const char *what) {
  fprintf(stderr, "%s: %s\n", what, strerror(errno));
  exit(1);
}

static void fail(const char *what, const char *detail) {
  fprintf(stderr, "%s: %s\n", what, detail ? detail : "failed");
  exit(1);
}

/* The value after --name, or dflt. */
static const char *arg(int argc, char **argv, const char *name, const char *dflt) {
  for (int i = 1; i + 1 < argc; i++)
    if (argv[i][0] == '-' && argv[i][1] == '-' && strcmp(argv[i] + 2, name) == 0) return argv[i + 1];
  if (!dflt) { fprintf(stderr, "missing --%s\n", name); exit(2); }
  return dflt;
}

/* "warm:2000:0,tput:20000:0,lat:1000:1000" -> kind:count:rate (rate 0 = as fast as it goes). */
static int parse_phases(const char *spec, phase_t *out) {
  prctl(PR_SET_PDEATHSIG, SIGKILL); /* every client parses its phases first: none outlives the harness */
  int n = 0;
  const char *p = spec;
  while (*p && n < MAX_PHASES) {
    if (sscanf(p, "%7[a-z]:%ld:%ld", out[n].kind, &out[n].count, &out[n].rate) != 3) fail("bad --phases", spec);
    n++;
    p = strchr(p, ',');
    if (!p) break;
    p++;
  }
  return n;
}

static void say(const char *line) { fputs(line, stdout); fputc('\n', stdout); fflush(stdout); }

/* Reads one line from stdin; 0 at EOF. */
static int next_line(void) {
  int c;
  while ((c = getchar()) != EOF) if (c == '\n') return 1;
  return 0;
}

static void put_u64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static uint64_t get_u64(const uint8_t *p) { uint64_t v = 0; for (int i = 7; i >= 0; i--) v = (v << 8) | p[i]; return v; }

/* --publishers N (default 1), checked against what the sink's table holds. */
static int publishers_arg(int argc, char **argv) {
  int n = atoi(arg(argc, argv, "publishers", "1"));
  if (n < 1 || n > MAX_PUBLISHERS) fail("bad --publishers", arg(argc, argv, "publishers", "1"));
  return n;
}

/* ---- publisher ---- */

typedef void (*send_fn)(void *ctx, const uint8_t *msg, size_t len);
/* True during a phase with a fixed rate: a client that batches writes must send each message at once. */
static int paced;
typedef void (*flush_fn)(void *ctx);

/*
 * Runs every phase on the harness's "go": stamps and sends this publisher's
 * share (offsets P, P+N, ...), paced when the phase has a rate: offset i is
 * due at i/rate, so N publishers together keep the phase's rate.
 */
static void publish_phases(int argc, char **argv, void *ctx, send_fn send, flush_fn flush) {
  size_t size = (size_t)atol(arg(argc, argv, "size", NULL));
  phase_t phases[MAX_PHASES];
  int nphases = parse_phases(arg(argc, argv, "phases", NULL), phases);
  int publishers = publishers_arg(argc, argv), me = atoi(arg(argc, argv, "publisher", "0"));
  if (me < 0 || me >= publishers) fail("bad --publisher", arg(argc, argv, "publisher", "0"));
  uint8_t *msg = calloc(1, size < 16 ? 16 : size);
  for (size_t i = 16; i < size; i++) msg[i] = (uint8_t)i;
  uint64_t first = 0;
  say("{\"ready\":true}");
  for (int k = 0; k < nphases; k++) {
    if (!next_line()) return;
    uint64_t start = now_ns();
    long sent = 0;
    paced = phases[k].rate > 0;
    for (long i = me; i < phases[k].count; i += publishers) {
      if (phases[k].rate > 0) {
        uint64_t due = start + (uint64_t)((double)i * 1e9 / (double)phases[k].rate);
        struct timespec t = { (time_t)(due / 1000000000u), (long)(due % 1000000000u) };
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR) {}
      }
      put_u64(msg, first + (uint64_t)i);
      put_u64(msg + 8, now_ns());
      send(ctx, msg, size);
      sent++;
    }
    first += (uint64_t)phases[k].count;
    if (flush) flush(ctx);
    printf("{\"phase\":%d,\"sent\":%ld,\"startNs\":%llu,\"endNs\":%llu}\n", k, sent,
           (unsigned long long)start, (unsigned long long)now_ns());
    fflush(stdout);
  }
  next_line(); /* wait for EOF: the harness reads our CPU time first */
}

/* ---- sink ---- */

typedef struct {
  phase_t phases[MAX_PHASES];
  int nphases, cur;
  long first_seq[MAX_PHASES + 1];
  uint8_t *seen;
  int publishers;
  long max_seen[MAX_PUBLISHERS]; /* per publisher: its numbers arrive in its order */
  long received, dup, reordered;
  uint64_t first_ns, last_ns, idle_ns;
  const char *lat_prefix;
  FILE *lat;
} sink_t;

static void sink_init(sink_t *s, int argc, char **argv) {
  memset(s, 0, sizeof *s);
  s->nphases = parse_phases(arg(argc, argv, "phases", NULL), s->phases);
  for (int k = 0; k < s->nphases; k++) s->first_seq[k + 1] = s->first_seq[k] + s->phases[k].count;
  s->seen = calloc((size_t)s->first_seq[s->nphases] / 8 + 1, 1);
  s->publishers = publishers_arg(argc, argv);
  for (int p = 0; p < MAX_PUBLISHERS; p++) s->max_seen[p] = -1;
  s->idle_ns = (uint64_t)atol(arg(argc, argv, "idle-ms", "2000")) * 1000000u;
  s->lat_prefix = arg(argc, argv, "lat-prefix", "");
}

static void sink_open_phase(sink_t *s) {
  s->received = s->dup = s->reordered = 0;
  s->first_ns = s->last_ns = 0;
  s->lat = NULL;
  if (s->cur < s->nphases && strcmp(s->phases[s->cur].kind, "lat") == 0 && *s->lat_prefix) {
    char path[4096];
    snprintf(path, sizeof path, "%s.%d", s->lat_prefix, s->cur);
    s->lat = fopen(path, "wb");
    if (!s->lat) die(path);
  }
}

static void sink_close_phase(sink_t *s) {
  if (s->lat) fclose(s->lat);
  printf("{\"phase\":%d,\"received\":%ld,\"dup\":%ld,\"reordered\":%ld,\"lost\":%ld,\"firstNs\":%llu,\"lastNs\":%llu}\n", s->cur,
         s->received, s->dup, s->reordered, s->phases[s->cur].count - s->received, (unsigned long long)s->first_ns,
         (unsigned long long)s->last_ns);
  fflush(stdout);
  s->cur++;
  sink_open_phase(s);
}

static void sink_ready(sink_t *s) {
  sink_open_phase(s);
  say("{\"ready\":true}");
}

/* Which publisher sent seq (in range): its offset in its phase, modulo the publishers. */
static int publisher_of(const sink_t *s, long seq) {
  int k = 0;
  while (seq >= s->first_seq[k + 1]) k++;
  return (int)((seq - s->first_seq[k]) % s->publishers);
}

/* Counts one message; returns 1 once every phase is done. */
static int sink_message(sink_t *s, const uint8_t *msg, size_t len) {
  uint64_t now = now_ns();
  if (len < 16 || s->cur >= s->nphases) return s->cur >= s->nphases;
  long seq = (long)get_u64(msg);
  if (seq < 0 || seq >= s->first_seq[s->nphases]) return 0;
  while (seq >= s->first_seq[s->cur + 1]) sink_close_phase(s); /* a lossy phase ended early */
  long *max_seen = &s->max_seen[publisher_of(s, seq)];
  if (s->seen[seq >> 3] & (1 << (seq & 7))) {
    s->dup++;
  } else if (seq >= s->first_seq[s->cur]) {
    s->seen[seq >> 3] |= (uint8_t)(1 << (seq & 7));
    if (seq < *max_seen) s->reordered++;
    s->received++;
  } else {
    s->reordered++; /* a straggler from a phase already reported */
  }
  if (seq > *max_seen) *max_seen = seq;
  if (!s->first_ns) s->first_ns = now;
  s->last_ns = now;
  if (s->lat) { uint64_t d = now - get_u64(msg + 8); fwrite(&d, 8, 1, s->lat); }
  if (s->received == s->phases[s->cur].count) sink_close_phase(s);
  return s->cur >= s->nphases;
}

/* Called when a receive timed out: a lossy phase that went quiet is over. Returns 1 once every phase is done. */
static int sink_tick(sink_t *s) {
  if (s->cur < s->nphases && s->last_ns && now_ns() - s->last_ns > s->idle_ns) sink_close_phase(s);
  return s->cur >= s->nphases;
}

static void sink_done(void) { next_line(); }
