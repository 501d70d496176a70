/* Shared-memory rings: the syscalls, nothing else (policy lives in src/shm).
 *
 * Node-API has no way to make a SharedArrayBuffer over memory it did not
 * allocate, so this file uses V8's API directly: mmap a file MAP_SHARED and
 * wrap it with SharedArrayBuffer::NewBackingStore (the deleter unmaps). Atomics
 * on that buffer are then seen by every process mapping the same file; waits
 * across processes go through futex(2) (shared, not the _PRIVATE variants).
 *
 * A mapping is built from pieces: one address range is reserved PROT_NONE,
 * then each piece (a range of some file, read-only or read-write) is mapped
 * MAP_FIXED over its place. A reader process maps the ring read-only and only
 * its own cursor page read-write; the writer maps a reader's page in place of
 * the ring's own page of that slot. The piece protections are the kernel's, so
 * a write outside a writable piece is a SIGSEGV, not a corrupted ring.
 */
#include <node.h>
#include <uv.h>
#include <v8.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <memory>
#include <string>

#include "uring-futex.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

namespace {

using v8::Array;
using v8::ArrayBuffer;
using v8::BackingStore;
using v8::Context;
using v8::Exception;
using v8::FunctionCallbackInfo;
using v8::Global;
using v8::HandleScope;
using v8::Integer;
using v8::Isolate;
using v8::Local;
using v8::Number;
using v8::Object;
using v8::Promise;
using v8::SharedArrayBuffer;
using v8::String;
using v8::Value;

Local<String> str(Isolate *isolate, const char *s) {
  return String::NewFromUtf8(isolate, s).ToLocalChecked();
}

/* Same shape as the rest of the binding's errors: code (errno name), errno, syscall, address. */
void throw_errno(Isolate *isolate, int err, const char *syscall, const std::string &target = "") {
  const char *code = strerrorname_np(err);
  if (code == nullptr) code = "EUNKNOWN";
  std::string message = std::string(syscall) + (target.empty() ? "" : " " + target) + ": " + code + " (" + strerror(err) + ")";
  Local<Context> context = isolate->GetCurrentContext();
  Local<Object> error = Exception::Error(str(isolate, message.c_str())).As<Object>();
  error->Set(context, str(isolate, "code"), str(isolate, code)).Check();
  error->Set(context, str(isolate, "errno"), Integer::New(isolate, err)).Check();
  error->Set(context, str(isolate, "syscall"), str(isolate, syscall)).Check();
  if (!target.empty()) error->Set(context, str(isolate, "address"), str(isolate, target.c_str())).Check();
  isolate->ThrowException(error);
}

void throw_arg(Isolate *isolate, const char *message) {
  Local<Object> error = Exception::TypeError(str(isolate, message)).As<Object>();
  error->Set(isolate->GetCurrentContext(), str(isolate, "code"), str(isolate, "ERR_INVALID_ARG_VALUE")).Check();
  isolate->ThrowException(error);
}

bool arg_int(const FunctionCallbackInfo<Value> &args, int i, int64_t *out) {
  if (!args[i]->IsNumber()) {
    throw_arg(args.GetIsolate(), "expected a number argument");
    return false;
  }
  *out = static_cast<int64_t>(args[i].As<Number>()->Value());
  return true;
}

std::string arg_string(const FunctionCallbackInfo<Value> &args, int i) {
  String::Utf8Value value(args.GetIsolate(), args[i]);
  return *value ? *value : "";
}

const int64_t PAGE = sysconf(_SC_PAGESIZE);

/* shmOpen(name, how, mode): how 0 read-only, 1 read-write, 2 create exclusively (read-write). */
void ShmOpen(const FunctionCallbackInfo<Value> &args) {
  Isolate *isolate = args.GetIsolate();
  std::string name = arg_string(args, 0);
  int64_t how, mode;
  if (!arg_int(args, 1, &how) || !arg_int(args, 2, &mode)) return;
  int flags = how == 0 ? O_RDONLY : how == 1 ? O_RDWR : O_RDWR | O_CREAT | O_EXCL;
  int fd = shm_open(name.c_str(), flags | O_CLOEXEC, static_cast<mode_t>(mode));
  if (fd < 0) return throw_errno(isolate, errno, "shm_open", name);
  args.GetReturnValue().Set(fd);
}

void ShmUnlink(const FunctionCallbackInfo<Value> &args) {
  std::string name = arg_string(args, 0);
  if (shm_unlink(name.c_str()) < 0) throw_errno(args.GetIsolate(), errno, "shm_unlink", name);
}

void Close(const FunctionCallbackInfo<Value> &args) {
  int64_t fd;
  if (!arg_int(args, 0, &fd)) return;
  if (close(static_cast<int>(fd)) < 0) throw_errno(args.GetIsolate(), errno, "close");
}

void Ftruncate(const FunctionCallbackInfo<Value> &args) {
  int64_t fd, size;
  if (!arg_int(args, 0, &fd) || !arg_int(args, 1, &size)) return;
  if (ftruncate(static_cast<int>(fd), size) < 0) throw_errno(args.GetIsolate(), errno, "ftruncate");
}

void Fchown(const FunctionCallbackInfo<Value> &args) {
  int64_t fd, uid, gid;
  if (!arg_int(args, 0, &fd) || !arg_int(args, 1, &uid) || !arg_int(args, 2, &gid)) return;
  if (fchown(static_cast<int>(fd), static_cast<uid_t>(uid), static_cast<gid_t>(gid)) < 0)
    throw_errno(args.GetIsolate(), errno, "fchown");
}

void Fchmod(const FunctionCallbackInfo<Value> &args) {
  int64_t fd, mode;
  if (!arg_int(args, 0, &fd) || !arg_int(args, 1, &mode)) return;
  if (fchmod(static_cast<int>(fd), static_cast<mode_t>(mode)) < 0) throw_errno(args.GetIsolate(), errno, "fchmod");
}

void Fstat(const FunctionCallbackInfo<Value> &args) {
  Isolate *isolate = args.GetIsolate();
  int64_t fd;
  if (!arg_int(args, 0, &fd)) return;
  struct stat st;
  if (fstat(static_cast<int>(fd), &st) < 0) return throw_errno(isolate, errno, "fstat");
  Local<Context> context = isolate->GetCurrentContext();
  Local<Object> out = Object::New(isolate);
  out->Set(context, str(isolate, "size"), Number::New(isolate, static_cast<double>(st.st_size))).Check();
  out->Set(context, str(isolate, "uid"), Number::New(isolate, st.st_uid)).Check();
  out->Set(context, str(isolate, "gid"), Number::New(isolate, st.st_gid)).Check();
  out->Set(context, str(isolate, "mode"), Number::New(isolate, st.st_mode & 07777)).Check();
  args.GetReturnValue().Set(out);
}

/* map(total, pieces): pieces is [[fd, fileOffset, at, length, writable], ...], all page-aligned. */
void Map(const FunctionCallbackInfo<Value> &args) {
  Isolate *isolate = args.GetIsolate();
  Local<Context> context = isolate->GetCurrentContext();
  int64_t total;
  if (!arg_int(args, 0, &total)) return;
  if (total <= 0 || total % PAGE != 0 || !args[1]->IsArray()) return throw_arg(isolate, "map: total must be a positive multiple of the page size, pieces an array");
  void *base = mmap(nullptr, total, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (base == MAP_FAILED) return throw_errno(isolate, errno, "mmap");
  Local<Array> pieces = args[1].As<Array>();
  for (uint32_t i = 0; i < pieces->Length(); i++) {
    Local<Value> item = pieces->Get(context, i).ToLocalChecked();
    if (!item->IsArray() || item.As<Array>()->Length() != 5) {
      munmap(base, total);
      return throw_arg(isolate, "map: each piece is [fd, fileOffset, at, length, writable]");
    }
    Local<Array> piece = item.As<Array>();
    int64_t v[4];
    for (int k = 0; k < 4; k++) v[k] = static_cast<int64_t>(piece->Get(context, k).ToLocalChecked().As<Number>()->Value());
    bool writable = piece->Get(context, 4).ToLocalChecked()->BooleanValue(isolate);
    if (v[1] % PAGE || v[2] % PAGE || v[3] <= 0 || v[3] % PAGE || v[2] + v[3] > total) {
      munmap(base, total);
      return throw_arg(isolate, "map: a piece is not page-aligned or lies outside the mapping");
    }
    void *at = static_cast<char *>(base) + v[2];
    int prot = writable ? PROT_READ | PROT_WRITE : PROT_READ;
    if (mmap(at, v[3], prot, MAP_SHARED | MAP_FIXED, static_cast<int>(v[0]), v[1]) == MAP_FAILED) {
      int err = errno;
      munmap(base, total);
      return throw_errno(isolate, err, "mmap");
    }
  }
  std::unique_ptr<BackingStore> store = SharedArrayBuffer::NewBackingStore(
      base, total, [](void *data, size_t length, void *) { munmap(data, length); }, nullptr);
  args.GetReturnValue().Set(SharedArrayBuffer::New(isolate, std::move(store)));
}

bool sab_range(const FunctionCallbackInfo<Value> &args, int64_t at, int64_t length, char **out) {
  if (!args[0]->IsSharedArrayBuffer()) {
    throw_arg(args.GetIsolate(), "expected a SharedArrayBuffer");
    return false;
  }
  std::shared_ptr<BackingStore> store = args[0].As<SharedArrayBuffer>()->GetBackingStore();
  if (at < 0 || length < 0 || static_cast<size_t>(at + length) > store->ByteLength()) {
    throw_arg(args.GetIsolate(), "range lies outside the SharedArrayBuffer");
    return false;
  }
  *out = static_cast<char *>(store->Data()) + at;
  return true;
}

/* remap(sab, at, fd, fileOffset, length, writable): replaces one page-aligned piece of a mapping made by map(). */
void Remap(const FunctionCallbackInfo<Value> &args) {
  Isolate *isolate = args.GetIsolate();
  int64_t at, fd, offset, length;
  if (!arg_int(args, 1, &at) || !arg_int(args, 2, &fd) || !arg_int(args, 3, &offset) || !arg_int(args, 4, &length)) return;
  char *where;
  if (!sab_range(args, at, length, &where)) return;
  if (at % PAGE || offset % PAGE || length <= 0 || length % PAGE) return throw_arg(isolate, "remap: piece not page-aligned");
  int prot = args[5]->BooleanValue(isolate) ? PROT_READ | PROT_WRITE : PROT_READ;
  if (mmap(where, length, prot, MAP_SHARED | MAP_FIXED, static_cast<int>(fd), offset) == MAP_FAILED)
    throw_errno(isolate, errno, "mmap");
}

long futex(void *addr, int op, int value, const struct timespec *timeout) {
  return syscall(SYS_futex, addr, op, value, timeout, nullptr, 0);
}

/* 0 woken, 1 timed out, 2 the word did not hold `expected`. A negative or infinite timeout waits forever. */
int futex_wait(int32_t *addr, int32_t expected, double timeout_ms) {
  struct timespec ts, *tp = nullptr;
  if (timeout_ms >= 0 && timeout_ms < 1e12) {
    ts.tv_sec = static_cast<time_t>(timeout_ms / 1000);
    ts.tv_nsec = static_cast<long>((timeout_ms - ts.tv_sec * 1000.0) * 1e6);
    tp = &ts;
  }
  for (;;) {
    if (futex(addr, FUTEX_WAIT, expected, tp) == 0) return 0;
    if (errno == ETIMEDOUT) return 1;
    if (errno == EAGAIN) return 2;
    if (errno != EINTR) return 0; /* unexpected: report a wake-up, the caller re-checks its condition */
  }
}

bool futex_word(const FunctionCallbackInfo<Value> &args, int32_t **out) {
  int64_t at;
  if (!arg_int(args, 1, &at)) return false;
  if (at % 4 != 0) {
    throw_arg(args.GetIsolate(), "futex: byte offset must be a multiple of 4");
    return false;
  }
  char *where;
  if (!sab_range(args, at, 4, &where)) return false;
  *out = reinterpret_cast<int32_t *>(where);
  return true;
}

/* futexWait(sab, byteOffset, expected, timeoutMs) -> 0 woken, 1 timed out, 2 not equal. Blocks this thread. */
void FutexWait(const FunctionCallbackInfo<Value> &args) {
  int32_t *word;
  int64_t expected;
  if (!futex_word(args, &word) || !arg_int(args, 2, &expected)) return;
  double timeout = args[3]->IsNumber() ? args[3].As<Number>()->Value() : -1;
  args.GetReturnValue().Set(futex_wait(word, static_cast<int32_t>(expected), timeout));
}

/* futexWake(sab, byteOffset, count) -> how many sleepers were woken. */
void FutexWake(const FunctionCallbackInfo<Value> &args) {
  int32_t *word;
  int64_t count;
  if (!futex_word(args, &word) || !arg_int(args, 2, &count)) return;
  long woken = futex(word, FUTEX_WAKE, static_cast<int>(count), nullptr);
  args.GetReturnValue().Set(static_cast<double>(woken < 0 ? 0 : woken));
}

/* An asynchronous futex wait is polled by the event loop through io_uring where the kernel can
 * (uring-futex.cc), else it runs on libuv's thread pool; either way the wait keeps the mapping alive. */
struct AsyncWait {
  uv_work_t work;
  Isolate *isolate;
  Global<Context> context;
  Global<Promise::Resolver> resolver;
  std::shared_ptr<BackingStore> store;
  int32_t *word;
  int32_t expected;
  double timeout;
  int result;
};

/* futexWaitAsync(sab, byteOffset, expected, timeoutMs) -> Promise<0 | 1 | 2>. Keep timeouts short: it holds a pool thread. */
void FutexWaitAsync(const FunctionCallbackInfo<Value> &args) {
  Isolate *isolate = args.GetIsolate();
  int32_t *word;
  int64_t expected;
  if (!futex_word(args, &word) || !arg_int(args, 2, &expected)) return;
  Local<Context> context = isolate->GetCurrentContext();
  Local<Promise::Resolver> resolver = Promise::Resolver::New(context).ToLocalChecked();
  auto *wait = new AsyncWait();
  wait->isolate = isolate;
  wait->context.Reset(isolate, context);
  wait->resolver.Reset(isolate, resolver);
  wait->store = args[0].As<SharedArrayBuffer>()->GetBackingStore();
  wait->word = word;
  wait->expected = static_cast<int32_t>(expected);
  wait->timeout = args[3]->IsNumber() ? args[3].As<Number>()->Value() : -1;
  args.GetReturnValue().Set(resolver->GetPromise());
  if (msgmux::uring_futex_wait_async(isolate, context, resolver, wait->store, word, wait->expected, wait->timeout)) {
    delete wait; /* the event loop polls this wait itself */
    return;
  }
  wait->work.data = wait;
  uv_queue_work(
      node::GetCurrentEventLoop(isolate), &wait->work,
      [](uv_work_t *req) {
        auto *w = static_cast<AsyncWait *>(req->data);
        w->result = futex_wait(w->word, w->expected, w->timeout);
      },
      [](uv_work_t *req, int) {
        std::unique_ptr<AsyncWait> w(static_cast<AsyncWait *>(req->data));
        HandleScope scope(w->isolate);
        Local<Context> ctx = w->context.Get(w->isolate);
        Context::Scope context_scope(ctx);
        w->resolver.Get(w->isolate)->Resolve(ctx, Integer::New(w->isolate, w->result)).Check();
      });
}

/* futexWaitAsyncKind() -> 'io_uring' when this thread's asynchronous waits are polled by its event loop, else 'thread pool'. */
void FutexWaitAsyncKind(const FunctionCallbackInfo<Value> &args) {
  Isolate *isolate = args.GetIsolate();
  args.GetReturnValue().Set(str(isolate, msgmux::uring_futex_available(isolate) ? "io_uring" : "thread pool"));
}

/* useThreadPoolForAsyncWaits(): this thread's asynchronous waits take a pool thread, never io_uring. */
void UseThreadPoolForAsyncWaits(const FunctionCallbackInfo<Value> &) { msgmux::uring_futex_disable(); }

void PidfdOpen(const FunctionCallbackInfo<Value> &args) {
  int64_t pid;
  if (!arg_int(args, 0, &pid)) return;
  long fd = syscall(SYS_pidfd_open, static_cast<pid_t>(pid), 0);
  if (fd < 0) return throw_errno(args.GetIsolate(), errno, "pidfd_open", std::to_string(pid));
  fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
  args.GetReturnValue().Set(static_cast<int>(fd));
}

}  // namespace

NODE_MODULE_INIT(/* exports, module, context */) {
  Isolate *isolate = context->GetIsolate();
  auto set = [&](const char *name, v8::FunctionCallback fn) {
    exports->Set(context, str(isolate, name), v8::FunctionTemplate::New(isolate, fn)->GetFunction(context).ToLocalChecked()).Check();
  };
  set("shmOpen", ShmOpen);
  set("shmUnlink", ShmUnlink);
  set("close", Close);
  set("ftruncate", Ftruncate);
  set("fchown", Fchown);
  set("fchmod", Fchmod);
  set("fstat", Fstat);
  set("map", Map);
  set("remap", Remap);
  set("futexWait", FutexWait);
  set("futexWaitAsync", FutexWaitAsync);
  set("futexWaitAsyncKind", FutexWaitAsyncKind);
  set("useThreadPoolForAsyncWaits", UseThreadPoolForAsyncWaits);
  set("futexWake", FutexWake);
  set("pidfdOpen", PidfdOpen);
  exports->Set(context, str(isolate, "PAGE_SIZE"), Number::New(isolate, static_cast<double>(PAGE))).Check();
}
