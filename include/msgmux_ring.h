/*
 * msgmux_ring.h: read a msgmux ring in shared memory from C.
 *
 * A ring file (/dev/shm/NAME, from the daemon's `shm` config or ShmRing)
 * holds:  header (512 B) | reader slots (64 B each) | data (capacity bytes).
 * A reader process gets a grant (control op "attach": ring name, reader slot,
 * cursor file), maps the ring read-only and its one-page cursor file
 * read-write over its slot's page (msgmux_ring_map), checks the header
 * (msgmux_ring_check), and then reads:
 *
 *   struct msgmux_ring r;
 *   if (msgmux_ring_map(&r, ring_name, reader_slot, cursor_file) != 0) ...   (errno set)
 *   struct msgmux_record rec;
 *   for (;;) {
 *     int got = msgmux_ring_next(&r, &rec, 100);   (1 a record, 0 timed out, -1 let go / evicted)
 *     ... use rec.data, rec.length (valid until the next msgmux_ring_release) ...
 *     msgmux_ring_release(&r);                      (hands the space back to the writer)
 *   }
 *
 * Everything here mirrors src/ring/layout.ts (a test compares the values).
 * The reader owns its slot's page, but only its cursor and sleep flag there
 * matter to the writer: the slot's state, policy and budget that the writer
 * acts on are in the slot's guard, on the owner's pages, read-only here.
 * A record is [length i32][record number i32][payload][pad to 8]; a length
 * of -1 marks the unused end of the data area. Positions are byte sequences
 * that grow forever modulo 2^32. This reader is for the `block` and `evict`
 * policies, which the writer never laps; a `drop` reader must also compare
 * each record's start against the header's TAIL word (msgmux_ring_lapped).
 * Linux only (futex). The header is self-contained: static inline functions.
 */
#ifndef MSGMUX_RING_H
#define MSGMUX_RING_H

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MSGMUX_RING_MAGIC 0x6d787231 /* "mxr1" */
#define MSGMUX_RING_VERSION 2
#define MSGMUX_HEADER_BYTES 512
#define MSGMUX_SLOT_BYTES 64
#define MSGMUX_RECORD_HEADER_BYTES 8
#define MSGMUX_PAD (-1)

/* Header words (int32 indexes from the start of the file). */
#define MSGMUX_H_MAGIC 0
#define MSGMUX_H_VERSION 1
#define MSGMUX_H_CAPACITY 2
#define MSGMUX_H_MAX_READERS 3
#define MSGMUX_H_DATA_OFFSET 4
#define MSGMUX_H_PROCESS_SLOT_FIRST 7
#define MSGMUX_H_PROCESS_SLOT_STRIDE 8
#define MSGMUX_H_PROCESS_SLOT_COUNT 9
#define MSGMUX_H_PROCESS_GUARD_FIRST 10
#define MSGMUX_H_WRITE_CURSOR 16
#define MSGMUX_H_TAIL 17
#define MSGMUX_H_WRITER_WAITING 33
#define MSGMUX_H_GATE_SIGNAL 34
#define MSGMUX_H_WRITER_WAKE_AT 36

/* Slot words (int32 indexes from the slot's start), and its counters (byte offsets). */
#define MSGMUX_S_STATE 0
#define MSGMUX_S_CURSOR 1
#define MSGMUX_S_POLICY 2
#define MSGMUX_S_SLEEPS 5
#define MSGMUX_S_DELIVERED_F64_BYTE 32
/* A process slot's guard (on the owner's pages, read-only here): the writer's word for the slot's state. */
#define MSGMUX_GUARD_STATE 1

#define MSGMUX_STATE_ACTIVE 1
#define MSGMUX_STATE_EVICTED 2

struct msgmux_ring {
  const volatile int32_t *h;  /* the header (read-only) */
  volatile int32_t *slot;     /* this reader's slot (its own page, read-write) */
  const volatile int32_t *guard; /* the writer's record of this slot (read-only): evicted or taken back shows here */
  const uint8_t *data;
  uint8_t *base;
  size_t size;
  uint32_t capacity, mask;
  uint32_t cursor;            /* next record to read */
  uint32_t released;          /* last cursor handed back to the writer */
  double delivered;
};

struct msgmux_record {
  const uint8_t *data;
  uint32_t length;
  uint32_t number;            /* the record's place in the stream, modulo 2^32 */
};

#define MSGMUX_LOAD(p) __atomic_load_n((p), __ATOMIC_SEQ_CST)
#define MSGMUX_STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_SEQ_CST)

static inline int32_t msgmux_seq_diff(uint32_t a, uint32_t b) { return (int32_t)(a - b); }

/* 0 when the first page `h` of a file of `file_size` bytes holds a ring this header reads; -1 with errno EPROTO otherwise. */
static inline int msgmux_ring_check(const volatile int32_t *h, size_t file_size, size_t page) {
  uint32_t capacity = (uint32_t)h[MSGMUX_H_CAPACITY];
  int32_t first = h[MSGMUX_H_PROCESS_SLOT_FIRST], stride = h[MSGMUX_H_PROCESS_SLOT_STRIDE], count = h[MSGMUX_H_PROCESS_SLOT_COUNT];
  int32_t max_readers = h[MSGMUX_H_MAX_READERS], guard_first = h[MSGMUX_H_PROCESS_GUARD_FIRST];
  size_t data_offset = MSGMUX_HEADER_BYTES + (size_t)max_readers * MSGMUX_SLOT_BYTES;
  int ok = MSGMUX_LOAD(&h[MSGMUX_H_MAGIC]) == MSGMUX_RING_MAGIC && h[MSGMUX_H_VERSION] == MSGMUX_RING_VERSION &&
           capacity >= 1024 && (capacity & (capacity - 1)) == 0 && count >= 1 && first >= 0 &&
           (size_t)stride * MSGMUX_SLOT_BYTES == page && (MSGMUX_HEADER_BYTES + (size_t)first * MSGMUX_SLOT_BYTES) % page == 0 &&
           guard_first >= 0 && guard_first + count <= first && max_readers == first + count * stride && (size_t)h[MSGMUX_H_DATA_OFFSET] == data_offset &&
           file_size >= data_offset + capacity;
  if (!ok) errno = EPROTO;
  return ok ? 0 : -1;
}

/* Maps ring `ring_name` read-only and `cursor_file` read-write over reader slot `reader_slot`; 0, or -1 with errno. */
static inline int msgmux_ring_map(struct msgmux_ring *r, const char *ring_name, int reader_slot, const char *cursor_file) {
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  int fd = shm_open(ring_name, O_RDONLY, 0), slot_fd = -1, saved;
  struct stat st;
  memset(r, 0, sizeof *r);
  if (fd < 0) return -1;
  if (fstat(fd, &st) != 0) goto fail;
  r->size = (size_t)st.st_size;
  r->base = (uint8_t *)mmap(NULL, r->size, PROT_READ, MAP_SHARED, fd, 0);
  if (r->base == MAP_FAILED) { r->base = NULL; goto fail; }
  r->h = (const volatile int32_t *)r->base;
  if (r->size < page || msgmux_ring_check(r->h, r->size, page) != 0) goto fail;
  {
    int32_t first = r->h[MSGMUX_H_PROCESS_SLOT_FIRST], stride = r->h[MSGMUX_H_PROCESS_SLOT_STRIDE];
    int32_t k = (reader_slot - first) / stride;
    size_t at = MSGMUX_HEADER_BYTES + (size_t)reader_slot * MSGMUX_SLOT_BYTES;
    if (reader_slot < first || (reader_slot - first) % stride != 0 || k >= r->h[MSGMUX_H_PROCESS_SLOT_COUNT]) { errno = EINVAL; goto fail; }
    slot_fd = shm_open(cursor_file, O_RDWR, 0);
    if (slot_fd < 0) goto fail;
    if (mmap(r->base + at, page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, slot_fd, 0) == MAP_FAILED) goto fail;
    r->slot = (volatile int32_t *)(r->base + at);
    r->guard = (const volatile int32_t *)(r->base + MSGMUX_HEADER_BYTES + (size_t)(r->h[MSGMUX_H_PROCESS_GUARD_FIRST] + k) * MSGMUX_SLOT_BYTES);
  }
  r->capacity = (uint32_t)r->h[MSGMUX_H_CAPACITY];
  r->mask = r->capacity - 1;
  r->data = r->base + r->h[MSGMUX_H_DATA_OFFSET];
  r->cursor = r->released = (uint32_t)MSGMUX_LOAD(&r->slot[MSGMUX_S_CURSOR]);
  close(slot_fd);
  close(fd);
  return 0;
fail:
  saved = errno;
  if (r->base != NULL) munmap(r->base, r->size);
  if (slot_fd >= 0) close(slot_fd);
  close(fd);
  errno = saved;
  return -1;
}

static inline void msgmux_futex_wait(const volatile int32_t *word, int32_t value, long timeout_ms) {
  struct timespec ts = { timeout_ms / 1000, (timeout_ms % 1000) * 1000000L };
  syscall(SYS_futex, word, FUTEX_WAIT, value, &ts, NULL, 0);
}

static inline void msgmux_futex_wake(const volatile int32_t *word) {
  syscall(SYS_futex, word, FUTEX_WAKE, 0x7fffffff, NULL, NULL, 0);
}

/* Hands everything read so far back to the writer, and wakes it if it waits for this much room. */
static inline void msgmux_ring_release(struct msgmux_ring *r) {
  uint32_t before = r->released;
  if (before == r->cursor) return;
  r->released = r->cursor;
  memcpy((void *)(r->slot + MSGMUX_S_DELIVERED_F64_BYTE / 4), &r->delivered, sizeof r->delivered); /* for stats only */
  MSGMUX_STORE(&r->slot[MSGMUX_S_CURSOR], (int32_t)r->cursor);
  if (MSGMUX_LOAD(&r->h[MSGMUX_H_WRITER_WAITING]) != 0) {
    uint32_t mark = (uint32_t)MSGMUX_LOAD(&r->h[MSGMUX_H_WRITER_WAKE_AT]);
    if (msgmux_seq_diff(before, mark) < 0 && msgmux_seq_diff(r->cursor, mark) >= 0) msgmux_futex_wake(&r->h[MSGMUX_H_GATE_SIGNAL]);
  }
}

/* True when the writer has overwritten the record that started at `start` (drop readers only). */
static inline int msgmux_ring_lapped(const struct msgmux_ring *r, uint32_t start) {
  return msgmux_seq_diff((uint32_t)MSGMUX_LOAD(&r->h[MSGMUX_H_TAIL]), start) > 0;
}

/*
 * The next record, waiting up to `timeout_ms` for one: 1 a record, 0 none yet,
 * -1 this reader no longer has its slot (evicted, or taken back by the owner).
 * Before sleeping it releases what it read and flags the sleep in its slot.
 */
static inline int msgmux_ring_next(struct msgmux_ring *r, struct msgmux_record *rec, long timeout_ms) {
  for (int slept = 0;; slept = 1) {
    if (MSGMUX_LOAD(&r->guard[MSGMUX_GUARD_STATE]) != MSGMUX_STATE_ACTIVE || MSGMUX_LOAD(&r->slot[MSGMUX_S_STATE]) != MSGMUX_STATE_ACTIVE) return -1;
    uint32_t published = (uint32_t)MSGMUX_LOAD(&r->h[MSGMUX_H_WRITE_CURSOR]);
    while (r->cursor != published) {
      uint32_t pos = r->cursor & r->mask;
      int32_t length;
      memcpy(&length, r->data + pos, 4);
      if (length == MSGMUX_PAD) {
        r->cursor += r->capacity - pos;
        continue;
      }
      rec->data = r->data + pos + MSGMUX_RECORD_HEADER_BYTES;
      rec->length = (uint32_t)length;
      memcpy(&rec->number, r->data + pos + 4, 4);
      r->cursor += ((uint32_t)length + MSGMUX_RECORD_HEADER_BYTES + 7) & ~7u;
      r->delivered += 1;
      return 1;
    }
    if (slept) return 0;
    msgmux_ring_release(r);
    __atomic_add_fetch(&r->slot[MSGMUX_S_SLEEPS], 1, __ATOMIC_SEQ_CST);
    int32_t value = MSGMUX_LOAD(&r->h[MSGMUX_H_WRITE_CURSOR]);
    if ((uint32_t)value == r->cursor) msgmux_futex_wait(&r->h[MSGMUX_H_WRITE_CURSOR], value, timeout_ms);
  }
}

static inline void msgmux_ring_unmap(struct msgmux_ring *r) {
  if (r->base != NULL) munmap(r->base, r->size);
  r->base = NULL;
}

#endif
