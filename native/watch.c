/* A readable watcher: a libuv poll handle on the calling thread's event loop
 * that calls a JS function whenever a descriptor is readable. It is level-
 * triggered (while the descriptor stays readable, the function is called again
 * on the next turn of the loop), and it holds no policy: what to read, and
 * when to stop, is the caller's. The descriptor stays the caller's too: close
 * the watcher before closing it, as libuv must stop polling a descriptor first.
 *
 * Lifetime: an open watcher keeps its wrapper and its function alive, and its
 * loop running, until watchClose(). If its thread ends first, an async cleanup
 * hook closes it, so that the loop can close. Its memory goes once both the
 * poll handle's close callback and the wrapper's finalizer have run. */
#include "common.h"
#include <stdlib.h>
#include <uv.h>

typedef struct watcher {
  uv_poll_t poll;
  napi_env env;
  napi_ref callback; /* strong while open */
  napi_ref self;     /* the wrapper, strong while open */
  napi_async_context async;
  napi_async_cleanup_hook_handle cleanup;
  bool closing;   /* uv_close has been called: no more calls into JS */
  bool closed;    /* ... and its close callback has run */
  bool finalized; /* the wrapper is gone (or never was) */
} watcher;

static const napi_type_tag WATCHER_TAG = {0x6d73676d75787761ULL, 0x7463686572303031ULL};

static void on_closed(uv_handle_t *handle) {
  watcher *w = handle->data;
  w->closed = true;
  if (w->cleanup) napi_remove_async_cleanup_hook(w->cleanup); /* at teardown: tells Node it is done */
  w->cleanup = NULL;
  if (w->finalized) free(w);
}

static void watcher_close(watcher *w) {
  if (w->closing) return;
  w->closing = true;
  if (w->callback) napi_delete_reference(w->env, w->callback);
  if (w->self) napi_delete_reference(w->env, w->self);
  if (w->async) napi_async_destroy(w->env, w->async);
  w->callback = w->self = NULL;
  w->async = NULL;
  uv_close((uv_handle_t *)&w->poll, on_closed); /* stops polling at once */
}

static void on_teardown(napi_async_cleanup_hook_handle hook, void *arg) {
  (void)hook;
  watcher_close(arg);
}

static void finalize_watcher(napi_env env, void *data, void *hint) {
  (void)env; (void)hint;
  watcher *w = data;
  w->finalized = true;
  watcher_close(w);
  if (w->closed) free(w);
}

/* Calls the function with null, or with an Error when libuv reports one (it has then stopped polling). */
static void on_readable(uv_poll_t *poll, int status, int events) {
  (void)events;
  watcher *w = poll->data;
  if (w->closing) return;
  napi_env env = w->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value fn, recv, arg = NULL;
  if (status < 0) arg = errno_error(env, -status, "poll", NULL);
  if (arg == NULL) napi_get_null(env, &arg);
  if (napi_get_reference_value(env, w->callback, &fn) == napi_ok && napi_get_global(env, &recv) == napi_ok && /* napi_make_callback needs an object */
      napi_make_callback(env, w->async, recv, fn, 1, &arg, NULL) == napi_pending_exception) {
    napi_value err;
    if (napi_get_and_clear_last_exception(env, &err) == napi_ok) napi_fatal_exception(env, err); /* as an uncaught exception */
  }
  napi_close_handle_scope(env, scope);
}

/* watchOpen(fd, callback) -> watcher: calls callback(null) on this thread's loop whenever fd is readable. */
static napi_value watch_open(napi_env env, napi_callback_info info) {
  GET_ARGS(2);
  int32_t fd;
  napi_valuetype type = napi_undefined;
  uv_loop_t *loop = NULL;
  if (!arg_int32(env, argv[0], "fd", 0, INT32_MAX, &fd)) return NULL;
  if (napi_typeof(env, argv[1], &type) != napi_ok || type != napi_function) {
    throw_arg(env, false, "ERR_INVALID_ARG_TYPE", "The \"callback\" argument must be a function");
    return NULL;
  }
  if (!check_status(env, napi_get_uv_event_loop(env, &loop))) return NULL;
  watcher *w = calloc(1, sizeof *w);
  if (!w) { napi_throw_error(env, "ENOMEM", "msgmux_native: out of memory"); return NULL; }
  w->env = env;
  w->poll.data = w;
  int rc = uv_poll_init(loop, &w->poll, fd);
  if (rc < 0) {
    free(w); /* an initialisation that failed leaves nothing to close */
    throw_errno(env, -rc, "uv_poll_init", NULL);
    return NULL;
  }
  napi_value obj, name;
  bool wrapped = false;
  if ((rc = uv_poll_start(&w->poll, UV_READABLE, on_readable)) < 0) {
    throw_errno(env, -rc, "uv_poll_start", NULL);
  } else if (check_status(env, napi_create_object(env, &obj)) &&
             check_status(env, napi_type_tag_object(env, obj, &WATCHER_TAG)) &&
             (wrapped = check_status(env, napi_wrap(env, obj, w, finalize_watcher, NULL, NULL))) &&
             check_status(env, napi_create_reference(env, obj, 1, &w->self)) &&
             check_status(env, napi_create_reference(env, argv[1], 1, &w->callback)) &&
             check_status(env, napi_create_string_utf8(env, "msgmux.ReadableWatcher", NAPI_AUTO_LENGTH, &name)) &&
             check_status(env, napi_async_init(env, obj, name, &w->async)) &&
             check_status(env, napi_add_async_cleanup_hook(env, on_teardown, w, &w->cleanup))) {
    return obj;
  }
  w->finalized = !wrapped; /* a wrapped one is freed by its finalizer as well */
  watcher_close(w);
  return NULL;
}

/* watchClose(watcher): stops it; no call follows, even for a readiness already seen. Idempotent. */
static napi_value watch_close(napi_env env, napi_callback_info info) {
  GET_ARGS(1);
  bool tagged = false;
  watcher *w = NULL;
  napi_valuetype type = napi_undefined;
  if (napi_typeof(env, argv[0], &type) == napi_ok && type == napi_object &&
      napi_check_object_type_tag(env, argv[0], &WATCHER_TAG, &tagged) == napi_ok && tagged)
    napi_unwrap(env, argv[0], (void **)&w);
  if (w == NULL) {
    throw_arg(env, false, "ERR_INVALID_ARG_TYPE", "expected a watcher from watchOpen");
    return NULL;
  }
  watcher_close(w);
  return NULL;
}

bool watch_register(napi_env env, napi_value exports) {
  static const export_fn fns[] = {{"watchOpen", watch_open}, {"watchClose", watch_close}};
  return export_functions(env, exports, fns, sizeof fns / sizeof fns[0]);
}
