/* Descriptor lifetime. Every descriptor belongs to one wrapper object in one
 * env (the main thread or a worker). It is closed by close(), by the wrapper's
 * GC finalizer, or by the env cleanup hook when the thread exits — whichever
 * comes first; the others then find fd == -1 and do nothing. */
#include "common.h"
#include <errno.h>
#include <mqueue.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct env_state {
  handle *open; /* doubly linked list of handles that still own memory */
} env_state;

/* Distinguishes our wrappers from arbitrary objects passed in from JS. */
static const napi_type_tag HANDLE_TAG = {0x6d73676d75786e61ULL, 0x7469766568646c31ULL};

void handle_close(handle *h) {
  if (h->fd < 0) return;
  /* Linux always releases the descriptor, even when close reports EINTR,
   * so there is nothing to retry and nothing useful to report. */
  if (h->kind == HANDLE_MQ) mq_close((mqd_t)h->fd);
  else close(h->fd);
  h->fd = -1;
  /* A closed handle never sends again: its batch arrays go now, not when the
   * wrapper is collected, which in a long-lived thread may be much later. */
  free(h->scratch);
  h->scratch = NULL;
  h->scratch_size = 0;
}

static void unlink_handle(handle *h) {
  if (h->state == NULL) return;
  if (h->prev) h->prev->next = h->next;
  else h->state->open = h->next;
  if (h->next) h->next->prev = h->prev;
  h->prev = h->next = NULL;
  h->state = NULL;
}

static void finalize_handle(napi_env env, void *data, void *hint) {
  (void)env; (void)hint;
  handle *h = data;
  handle_close(h);
  unlink_handle(h);
  free(h->scratch);
  free(h);
}

/* Runs when the env (thread) shuts down, before wrapper finalizers. It only
 * closes and detaches; the finalizers still free each handle afterwards. */
static void cleanup_env(void *arg) {
  env_state *state = arg;
  handle *h = state->open;
  while (h) {
    handle *next = h->next;
    handle_close(h);
    h->prev = h->next = NULL;
    h->state = NULL;
    h = next;
  }
  free(state);
}

bool state_init(napi_env env) {
  env_state *state = calloc(1, sizeof *state);
  if (!state) { napi_throw_error(env, "ENOMEM", "msgmux_native: out of memory"); return false; }
  if (!check_status(env, napi_set_instance_data(env, state, NULL, NULL))) { free(state); return false; }
  return check_status(env, napi_add_env_cleanup_hook(env, cleanup_env, state));
}

napi_value handle_new(napi_env env, handle_kind kind, int fd) {
  env_state *state = NULL;
  napi_value obj;
  handle *h = calloc(1, sizeof *h);
  if (!h || napi_get_instance_data(env, (void **)&state) != napi_ok || state == NULL) {
    free(h);
    handle_close(&(handle){.fd = fd, .kind = kind});
    napi_throw_error(env, "ENOMEM", "msgmux_native: out of memory");
    return NULL;
  }
  h->fd = fd;
  h->kind = kind;
  h->state = state;
  h->next = state->open;
  if (state->open) state->open->prev = h;
  state->open = h;
  if (!check_status(env, napi_create_object(env, &obj)) ||
      !check_status(env, napi_type_tag_object(env, obj, &HANDLE_TAG)) ||
      !check_status(env, napi_wrap(env, obj, h, finalize_handle, NULL, NULL))) {
    finalize_handle(env, h, NULL);
    return NULL;
  }
  return obj;
}

/* The handle behind `value`, whatever its kind and state, or NULL after
 * throwing a TypeError for anything that is not one of our wrappers. */
handle *handle_any(napi_env env, napi_value value) {
  bool tagged = false;
  handle *h = NULL;
  napi_valuetype type = napi_undefined;
  if (napi_typeof(env, value, &type) == napi_ok && type == napi_object &&
      napi_check_object_type_tag(env, value, &HANDLE_TAG, &tagged) == napi_ok && tagged)
    napi_unwrap(env, value, (void **)&h);
  if (h == NULL) throw_arg(env, false, "ERR_INVALID_ARG_TYPE", "expected a msgmux socket or queue handle");
  return h;
}

/* The open handle of the given kind behind `value`, or NULL after throwing
 * (TypeError for a foreign object, EBADF for a closed one, as the syscall would). */
handle *handle_get(napi_env env, napi_value value, handle_kind kind, napi_value target, const char *syscall) {
  handle *h = handle_any(env, value);
  if (h == NULL) return NULL;
  if (h->kind != kind) {
    throw_arg(env, false, "ERR_INVALID_ARG_TYPE",
              kind == HANDLE_MQ ? "expected a message queue handle"
              : kind == HANDLE_EVENTFD ? "expected an eventfd handle" : "expected a socket handle");
    return NULL;
  }
  if (h->fd < 0) { throw_errno(env, EBADF, syscall, target); return NULL; }
  return h;
}

/* Batch calls need arrays sized by the caller's count; keeping them on the
 * handle (one thread owns it) avoids an allocation per batch. */
void *handle_scratch(napi_env env, handle *h, size_t size) {
  if (size <= h->scratch_size) return h->scratch;
  void *grown = realloc(h->scratch, size);
  if (!grown) { napi_throw_error(env, "ENOMEM", "msgmux_native: out of memory"); return NULL; }
  h->scratch = grown;
  h->scratch_size = size;
  return grown;
}
