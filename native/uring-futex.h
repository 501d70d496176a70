/* Futex waits polled by the thread's event loop through io_uring (see uring-futex.cc). */
#pragma once

#include <node.h>
#include <uv.h>
#include <v8.h>

#include <memory>

namespace msgmux {

/* Whether this thread can wait through io_uring (Linux 6.7+ with FUTEX_WAIT); sets the ring up on first use. */
bool uring_futex_available(v8::Isolate *isolate);

/* From now on this thread's waits take the pool thread (only before its first wait). */
void uring_futex_disable();

/* Waits for `word` (in `store`) to change from `expected`, at most `timeout_ms` (negative: no limit), then
 * resolves `resolver` with 0 (woken), 1 (timed out) or 2 (the word did not hold `expected`). False, and
 * nothing done, when this thread has no such ring or it is full: the caller waits another way. */
bool uring_futex_wait_async(v8::Isolate *isolate, v8::Local<v8::Context> context, v8::Local<v8::Promise::Resolver> resolver,
                            std::shared_ptr<v8::BackingStore> store, int32_t *word, int32_t expected, double timeout_ms);

}  // namespace msgmux
