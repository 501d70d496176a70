/* errno -> JS Error, and argument errors. The only place errors are built. */
#define _GNU_SOURCE
#include "common.h"
#include <stdio.h>
#include <string.h>

static void set_string(napi_env env, napi_value obj, const char *key, const char *value) {
  napi_value v;
  if (napi_create_string_utf8(env, value, NAPI_AUTO_LENGTH, &v) == napi_ok)
    napi_set_named_property(env, obj, key, v);
}

/* The target (a socket address or queue name, already in its human form)
 * is read only here, on the failure path, so the hot path never converts it. */
static void target_text(napi_env env, napi_value target, char *buf, size_t size) {
  napi_valuetype type = napi_undefined;
  size_t written = 0;
  buf[0] = '\0';
  if (target == NULL || napi_typeof(env, target, &type) != napi_ok || type != napi_string) return;
  napi_get_value_string_utf8(env, target, buf, size, &written);
}

napi_value errno_error(napi_env env, int err, const char *syscall, napi_value target) {
  char where[300], message[512], text[128];
  const char *code = strerrorname_np(err);
  if (code == NULL) code = "EUNKNOWN";
  target_text(env, target, where, sizeof where);
  const char *desc = strerror_r(err, text, sizeof text); /* GNU variant: returns the string */
  snprintf(message, sizeof message, "%s%s%s: %s (%s)", syscall, where[0] ? " " : "", where, code, desc);

  napi_value msg, error, errno_value;
  if (napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg) != napi_ok) return NULL;
  if (napi_create_error(env, NULL, msg, &error) != napi_ok) return NULL;
  set_string(env, error, "code", code);
  if (napi_create_int32(env, err, &errno_value) == napi_ok)
    napi_set_named_property(env, error, "errno", errno_value);
  set_string(env, error, "syscall", syscall);
  if (where[0]) set_string(env, error, "address", where);
  return error;
}

void throw_errno(napi_env env, int err, const char *syscall, napi_value target) {
  napi_value error = errno_error(env, err, syscall, target);
  if (error) napi_throw(env, error);
}

void throw_arg(napi_env env, bool range, const char *code, const char *msg) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return; /* keep the first, most specific error */
  if (range) napi_throw_range_error(env, code, msg);
  else napi_throw_type_error(env, code, msg);
}

/* A failing napi_* call means the engine is out of memory or an argument was
 * unusable; surface it as an exception instead of crashing the process. */
bool check_status(napi_env env, napi_status status) {
  if (status == napi_ok) return true;
  const napi_extended_error_info *info = NULL;
  napi_get_last_error_info(env, &info); /* read before any other call resets it */
  const char *text = info && info->error_message ? info->error_message : NULL;
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) {
    napi_throw_error(env, "ERR_MSGMUX_NAPI",
                     text ? text : "Node-API call failed");
  }
  return false;
}
