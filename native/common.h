/* Shared declarations for the msgmux native binding.
 *
 * The binding is a thin layer over syscalls: every policy decision (address
 * syntax, retries, backoff) lives in the TypeScript wrapper. What C owns is
 * descriptor lifetime, bounds checks on caller memory, and errno -> Error.
 */
#ifndef MSGMUX_COMMON_H
#define MSGMUX_COMMON_H

#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

typedef enum { HANDLE_SOCKET = 1, HANDLE_MQ = 2, HANDLE_EVENTFD = 3 } handle_kind;

struct env_state;

/* One open descriptor, owned by exactly one JS object in one env (thread). */
typedef struct handle {
  int fd; /* -1 once closed; mqd_t is an int on Linux */
  handle_kind kind;
  struct env_state *state; /* NULL once the env has been torn down */
  struct handle *prev, *next;
  void *scratch; /* per-handle batch arrays (mmsghdr/iovec), grown on demand */
  size_t scratch_size;
} handle;

/* errors.c */
napi_value errno_error(napi_env env, int err, const char *syscall, napi_value target); /* NULL if it cannot be built */
void throw_errno(napi_env env, int err, const char *syscall, napi_value target);
void throw_arg(napi_env env, bool range, const char *code, const char *msg);
bool check_status(napi_env env, napi_status status);

/* handles.c */
bool state_init(napi_env env);
napi_value handle_new(napi_env env, handle_kind kind, int fd);
handle *handle_any(napi_env env, napi_value value);
handle *handle_get(napi_env env, napi_value value, handle_kind kind, napi_value target, const char *syscall);
void handle_close(handle *h);
void *handle_scratch(napi_env env, handle *h, size_t size);

/* args.c */
typedef struct { uint8_t *data; size_t length; } byte_view;
bool arg_bytes(napi_env env, napi_value value, const char *name, byte_view *out);
bool arg_int32_array(napi_env env, napi_value value, const char *name, size_t min_length, int32_t **out);
bool arg_int32(napi_env env, napi_value value, const char *name, int32_t min, int32_t max, int32_t *out);
bool arg_bool(napi_env env, napi_value value, bool *out);
bool arg_is_nullish(napi_env env, napi_value value);
napi_value make_int(napi_env env, int64_t v);
napi_value make_bool(napi_env env, bool v);
bool set_prop(napi_env env, napi_value obj, const char *key, napi_value v);

/* Fetch exactly N args of the current call into argv. */
#define GET_ARGS(N)                                                                 \
  size_t argc = (N);                                                                \
  napi_value argv[(N) > 0 ? (N) : 1];                                               \
  if (!check_status(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL))) return NULL; \
  for (size_t i_ = argc; i_ < (size_t)(N); i_++) napi_get_undefined(env, &argv[i_]);

/* dgram.c / mq.c / udp.c / eventfd.c / watch.c register their functions on the exports object. */
bool dgram_register(napi_env env, napi_value exports);
bool mq_register(napi_env env, napi_value exports);
bool udp_register(napi_env env, napi_value exports);
bool eventfd_register(napi_env env, napi_value exports);
bool watch_register(napi_env env, napi_value exports);

typedef struct { const char *name; napi_callback fn; } export_fn;
bool export_functions(napi_env env, napi_value exports, const export_fn *fns, size_t count);
bool export_constant(napi_env env, napi_value exports, const char *name, int64_t value);

#endif
