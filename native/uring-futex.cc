/* Asynchronous futex waits that the event loop itself polls: io_uring's
 * FUTEX_WAIT (Linux 6.7 and later).
 *
 * The other way to wait without blocking the loop is a pool thread blocked
 * in futex(2): each wait then wakes that thread, which wakes the loop
 * through uv_async. Here the wait is a request in an io_uring of this
 * thread's own, whose descriptor the loop polls: the writer's FUTEX_WAKE
 * completes the request and the loop wakes once, with no thread between.
 *
 * One ring per thread (an Environment: the main thread or a worker), made on
 * the first wait and closed with the Environment. The kernel headers this is
 * built against may predate the opcode: it is defined here, and a kernel
 * that lacks it answers the probe made when the ring is set up with EINVAL,
 * so the caller falls back to the pool thread.
 */
#include "uring-futex.h"

#include <linux/io_uring.h>
#include <linux/time_types.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <memory>

#ifndef IORING_OP_FUTEX_WAIT
#define IORING_OP_FUTEX_WAIT 51
#endif
#define FUTEX2_SIZE_U32_FLAG 0x02 /* FUTEX2_SIZE_U32, not FUTEX2_PRIVATE: the word is shared across processes */
#define FUTEX_MATCH_ANY 0xffffffffu

namespace msgmux {

using v8::Context;
using v8::Global;
using v8::HandleScope;
using v8::Integer;
using v8::Isolate;
using v8::Local;
using v8::Object;
using v8::Promise;

namespace {

/* Ring entries: a wait takes two (the futex wait and its linked timeout), so at most ENTRIES / 2 waits
 * are in flight (and their completions fit the completion ring, twice as large); more take the pool. */
constexpr unsigned ENTRIES = 64;
constexpr unsigned MAX_PENDING = ENTRIES / 2;

struct PendingWait {
  Isolate *isolate;
  Global<Context> context;
  Global<Promise::Resolver> resolver;
  std::shared_ptr<v8::BackingStore> store; /* keeps the mapping alive while the kernel may touch the word */
  struct __kernel_timespec timeout;
};

struct Uring {
  int fd = -1;
  void *sq_ring = MAP_FAILED, *cq_ring = MAP_FAILED;
  size_t sq_ring_bytes = 0, cq_ring_bytes = 0;
  struct io_uring_sqe *sqes = static_cast<struct io_uring_sqe *>(MAP_FAILED);
  size_t sqes_bytes = 0;
  unsigned *sq_head, *sq_tail, *sq_mask, *sq_array;
  unsigned *cq_head, *cq_tail, *cq_mask;
  struct io_uring_cqe *cqes;
  uv_poll_t poll;
  bool polling = false;
  unsigned pending = 0;
  Isolate *isolate = nullptr;
};

/* Per thread: the ring, or the knowledge that there is none to be had. */
thread_local Uring *ring_of_thread = nullptr;
thread_local bool unavailable = false;

int uring_setup(unsigned entries, struct io_uring_params *p) { return static_cast<int>(syscall(__NR_io_uring_setup, entries, p)); }
int uring_enter(int fd, unsigned submit, unsigned wait, unsigned flags) {
  return static_cast<int>(syscall(__NR_io_uring_enter, fd, submit, wait, flags, nullptr, 0));
}

void unmap_and_close(Uring *r) {
  if (r->sqes != MAP_FAILED) munmap(r->sqes, r->sqes_bytes);
  if (r->cq_ring != MAP_FAILED && r->cq_ring != r->sq_ring) munmap(r->cq_ring, r->cq_ring_bytes);
  if (r->sq_ring != MAP_FAILED) munmap(r->sq_ring, r->sq_ring_bytes);
  if (r->fd >= 0) close(r->fd);
  delete r;
}

template <typename T>
T *at(void *base, unsigned offset) {
  return reinterpret_cast<T *>(static_cast<char *>(base) + offset);
}

/* The next free submission entry, zeroed; null when the ring is full. */
struct io_uring_sqe *next_sqe(Uring *r, unsigned *tail) {
  unsigned head = __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE);
  if (*tail - head >= ENTRIES) return nullptr;
  unsigned index = *tail & *r->sq_mask;
  r->sq_array[index] = index;
  (*tail)++;
  struct io_uring_sqe *sqe = &r->sqes[index];
  memset(sqe, 0, sizeof(*sqe));
  return sqe;
}

void prep_futex_wait(struct io_uring_sqe *sqe, int32_t *word, int32_t expected, uint64_t user_data) {
  sqe->opcode = IORING_OP_FUTEX_WAIT;
  sqe->fd = FUTEX2_SIZE_U32_FLAG;
  sqe->addr = reinterpret_cast<uint64_t>(word);
  sqe->off = static_cast<uint32_t>(expected); /* addr2: the value the word must still hold */
  sqe->addr3 = FUTEX_MATCH_ANY;
  sqe->user_data = user_data;
}

/* Whether this kernel knows FUTEX_WAIT: a wait on a word that does not hold the value fails at once with EAGAIN. */
bool probe(Uring *r) {
  int32_t word = 0;
  unsigned tail = *r->sq_tail;
  prep_futex_wait(next_sqe(r, &tail), &word, 1, 1);
  __atomic_store_n(r->sq_tail, tail, __ATOMIC_RELEASE);
  if (uring_enter(r->fd, 1, 1, IORING_ENTER_GETEVENTS) < 0) return false;
  unsigned head = *r->cq_head;
  if (head == __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE)) return false;
  int res = r->cqes[head & *r->cq_mask].res;
  __atomic_store_n(r->cq_head, head + 1, __ATOMIC_RELEASE);
  return res == -EAGAIN;
}

Uring *open_uring() {
  struct io_uring_params p;
  memset(&p, 0, sizeof(p));
  auto *r = new Uring();
  r->fd = uring_setup(ENTRIES, &p);
  if (r->fd < 0) {
    unmap_and_close(r);
    return nullptr;
  }
  r->sq_ring_bytes = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  r->cq_ring_bytes = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
  if (p.features & IORING_FEAT_SINGLE_MMAP) r->sq_ring_bytes = r->cq_ring_bytes = std::max(r->sq_ring_bytes, r->cq_ring_bytes);
  r->sq_ring = mmap(nullptr, r->sq_ring_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQ_RING);
  if (r->sq_ring != MAP_FAILED) {
    r->cq_ring = (p.features & IORING_FEAT_SINGLE_MMAP)
        ? r->sq_ring
        : mmap(nullptr, r->cq_ring_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_CQ_RING);
  }
  r->sqes_bytes = p.sq_entries * sizeof(struct io_uring_sqe);
  if (r->cq_ring != MAP_FAILED) {
    r->sqes = static_cast<struct io_uring_sqe *>(mmap(nullptr, r->sqes_bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_SQES));
  }
  if (r->sqes == MAP_FAILED) {
    unmap_and_close(r);
    return nullptr;
  }
  r->sq_head = at<unsigned>(r->sq_ring, p.sq_off.head);
  r->sq_tail = at<unsigned>(r->sq_ring, p.sq_off.tail);
  r->sq_mask = at<unsigned>(r->sq_ring, p.sq_off.ring_mask);
  r->sq_array = at<unsigned>(r->sq_ring, p.sq_off.array);
  r->cq_head = at<unsigned>(r->cq_ring, p.cq_off.head);
  r->cq_tail = at<unsigned>(r->cq_ring, p.cq_off.tail);
  r->cq_mask = at<unsigned>(r->cq_ring, p.cq_off.ring_mask);
  r->cqes = at<struct io_uring_cqe>(r->cq_ring, p.cq_off.cqes);
  if (!probe(r)) {
    unmap_and_close(r);
    return nullptr;
  }
  return r;
}

/* 0 woken, 1 timed out, 2 the word did not hold the value: what the pool thread's futex_wait reports. */
int outcome(int res) {
  if (res == -ECANCELED || res == -ETIME) return 1; /* the linked timeout cancelled the wait */
  if (res == -EAGAIN) return 2;
  return 0; /* woken, or something unexpected: the caller re-checks its condition either way */
}

void settle(PendingWait *wait, int res) {
  std::unique_ptr<PendingWait> w(wait);
  Isolate *isolate = w->isolate;
  HandleScope scope(isolate);
  Local<Context> context = w->context.Get(isolate);
  Context::Scope context_scope(context);
  /* A callback scope runs the promise's reactions (and nextTicks) when it closes, as for any I/O callback. */
  node::CallbackScope callback_scope(isolate, Object::New(isolate), {0, 0});
  w->resolver.Get(isolate)->Resolve(context, Integer::New(isolate, outcome(res))).Check();
}

void on_readable(uv_poll_t *handle, int, int) {
  auto *r = static_cast<Uring *>(handle->data);
  unsigned head = *r->cq_head;
  unsigned tail = __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE);
  /* Take every completion off the ring before settling any: settling runs JS, which may wait again. */
  PendingWait *done[MAX_PENDING];
  int results[MAX_PENDING];
  unsigned count = 0;
  for (; head != tail; head++) {
    struct io_uring_cqe *cqe = &r->cqes[head & *r->cq_mask];
    if (cqe->user_data == 0) continue; /* a linked timeout's own completion */
    done[count] = reinterpret_cast<PendingWait *>(cqe->user_data);
    results[count++] = cqe->res;
  }
  __atomic_store_n(r->cq_head, head, __ATOMIC_RELEASE);
  r->pending -= count;
  if (r->pending == 0) uv_unref(reinterpret_cast<uv_handle_t *>(&r->poll)); /* an idle ring does not keep the loop alive */
  for (unsigned k = 0; k < count; k++) settle(done[k], results[k]);
}

void close_at_exit(void *arg) {
  auto *r = static_cast<Uring *>(arg);
  ring_of_thread = nullptr;
  uv_poll_stop(&r->poll);
  uv_close(reinterpret_cast<uv_handle_t *>(&r->poll), [](uv_handle_t *h) { unmap_and_close(static_cast<Uring *>(h->data)); });
}

Uring *uring_for(Isolate *isolate) {
  if (ring_of_thread != nullptr || unavailable) return ring_of_thread;
  Uring *r = open_uring();
  if (r == nullptr) {
    unavailable = true;
    return nullptr;
  }
  r->isolate = isolate;
  r->poll.data = r;
  if (uv_poll_init(node::GetCurrentEventLoop(isolate), &r->poll, r->fd) != 0) {
    unmap_and_close(r);
    unavailable = true;
    return nullptr;
  }
  uv_poll_start(&r->poll, UV_READABLE, on_readable);
  uv_unref(reinterpret_cast<uv_handle_t *>(&r->poll));
  node::AddEnvironmentCleanupHook(isolate, close_at_exit, r);
  return ring_of_thread = r;
}

}  // namespace

bool uring_futex_available(Isolate *isolate) { return uring_for(isolate) != nullptr; }

void uring_futex_disable() {
  if (ring_of_thread == nullptr) unavailable = true;
}

bool uring_futex_wait_async(Isolate *isolate, Local<Context> context, Local<Promise::Resolver> resolver,
                            std::shared_ptr<v8::BackingStore> store, int32_t *word, int32_t expected, double timeout_ms) {
  Uring *r = uring_for(isolate);
  if (r == nullptr || r->pending >= MAX_PENDING) return false;
  bool timed = timeout_ms >= 0 && timeout_ms < 1e12;
  unsigned tail = *r->sq_tail;
  struct io_uring_sqe *wait_sqe = next_sqe(r, &tail);
  struct io_uring_sqe *timeout_sqe = wait_sqe != nullptr && timed ? next_sqe(r, &tail) : nullptr;
  if (wait_sqe == nullptr || (timed && timeout_sqe == nullptr)) return false; /* full: this wait takes the pool thread */
  auto *wait = new PendingWait();
  wait->isolate = isolate;
  wait->context.Reset(isolate, context);
  wait->resolver.Reset(isolate, resolver);
  wait->store = std::move(store);
  prep_futex_wait(wait_sqe, word, expected, reinterpret_cast<uint64_t>(wait));
  if (timed) {
    wait->timeout.tv_sec = static_cast<long long>(timeout_ms / 1000);
    wait->timeout.tv_nsec = static_cast<long long>((timeout_ms - wait->timeout.tv_sec * 1000.0) * 1e6);
    wait_sqe->flags |= IOSQE_IO_LINK;
    timeout_sqe->opcode = IORING_OP_LINK_TIMEOUT;
    timeout_sqe->addr = reinterpret_cast<uint64_t>(&wait->timeout);
    timeout_sqe->len = 1;
    timeout_sqe->user_data = 0;
  }
  __atomic_store_n(r->sq_tail, tail, __ATOMIC_RELEASE);
  int submitted = uring_enter(r->fd, timed ? 2 : 1, 0, 0);
  if (submitted < 0) {
    /* Nothing was taken (the kernel consumes entries only on success): take them back. */
    __atomic_store_n(r->sq_tail, tail - (timed ? 2 : 1), __ATOMIC_RELEASE);
    delete wait;
    return false;
  }
  if (r->pending++ == 0) uv_ref(reinterpret_cast<uv_handle_t *>(&r->poll));
  return true;
}

}  // namespace msgmux
