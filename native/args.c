/* Argument checks for values coming from JS. Anything that indexes memory is
 * validated here, so a bad offset or length can never read out of bounds. */
#include "common.h"
#include <stdio.h>

static void type_error(napi_env env, const char *name, const char *expected) {
  char msg[160];
  snprintf(msg, sizeof msg, "The \"%s\" argument must be %s", name, expected);
  throw_arg(env, false, "ERR_INVALID_ARG_TYPE", msg);
}

static size_t element_size(napi_typedarray_type type) {
  switch (type) {
    case napi_int16_array: case napi_uint16_array: return 2;
    case napi_int32_array: case napi_uint32_array: case napi_float32_array: return 4;
    case napi_float64_array: case napi_bigint64_array: case napi_biguint64_array: return 8;
    default: return 1;
  }
}

/* Any TypedArray or DataView, including views over a SharedArrayBuffer
 * (Node-API in Node 20 cannot take a SharedArrayBuffer itself, so the
 * wrapper passes a Uint8Array view of it). */
bool arg_bytes(napi_env env, napi_value value, const char *name, byte_view *out) {
  bool is_typed = false, is_view = false;
  void *data = NULL;
  size_t length = 0;
  napi_is_typedarray(env, value, &is_typed);
  if (is_typed) {
    napi_typedarray_type type;
    if (!check_status(env, napi_get_typedarray_info(env, value, &type, &length, &data, NULL, NULL))) return false;
    length *= element_size(type);
  } else if (napi_is_dataview(env, value, &is_view) == napi_ok && is_view) {
    if (!check_status(env, napi_get_dataview_info(env, value, &length, &data, NULL, NULL))) return false;
  } else {
    type_error(env, name, "a TypedArray or DataView");
    return false;
  }
  out->data = data;
  out->length = length;
  return true;
}

bool arg_int32_array(napi_env env, napi_value value, const char *name, size_t min_length, int32_t **out) {
  bool is_typed = false;
  napi_typedarray_type type = napi_uint8_array;
  size_t length = 0;
  void *data = NULL;
  napi_is_typedarray(env, value, &is_typed);
  if (!is_typed || napi_get_typedarray_info(env, value, &type, &length, &data, NULL, NULL) != napi_ok ||
      type != napi_int32_array) {
    type_error(env, name, "an Int32Array");
    return false;
  }
  if (length < min_length) {
    char msg[160];
    snprintf(msg, sizeof msg, "The \"%s\" array has %zu elements; at least %zu are needed", name, length, min_length);
    throw_arg(env, true, "ERR_OUT_OF_RANGE", msg);
    return false;
  }
  *out = data;
  return true;
}

bool arg_int32(napi_env env, napi_value value, const char *name, int32_t min, int32_t max, int32_t *out) {
  napi_valuetype type = napi_undefined;
  double d = 0;
  napi_typeof(env, value, &type);
  if (type != napi_number) { type_error(env, name, "a number"); return false; }
  napi_get_value_double(env, value, &d);
  if (!(d >= min && d <= max) || d != (double)(int32_t)d) {
    char msg[160];
    snprintf(msg, sizeof msg, "The value of \"%s\" is out of range. It must be an integer >= %d and <= %d. Received %g",
             name, min, max, d);
    throw_arg(env, true, "ERR_OUT_OF_RANGE", msg);
    return false;
  }
  *out = (int32_t)d;
  return true;
}

/* Truthiness, as JS would see it, for flag arguments. */
bool arg_bool(napi_env env, napi_value value, bool *out) {
  napi_value coerced;
  if (!check_status(env, napi_coerce_to_bool(env, value, &coerced))) return false;
  return check_status(env, napi_get_value_bool(env, coerced, out));
}

bool arg_is_nullish(napi_env env, napi_value value) {
  napi_valuetype type = napi_undefined;
  napi_typeof(env, value, &type);
  return type == napi_undefined || type == napi_null;
}

napi_value make_int(napi_env env, int64_t v) {
  napi_value out = NULL;
  napi_create_int64(env, v, &out);
  return out;
}

napi_value make_bool(napi_env env, bool v) {
  napi_value out = NULL;
  napi_get_boolean(env, v, &out);
  return out;
}

bool set_prop(napi_env env, napi_value obj, const char *key, napi_value v) {
  return check_status(env, napi_set_named_property(env, obj, key, v));
}

bool export_functions(napi_env env, napi_value exports, const export_fn *fns, size_t count) {
  for (size_t i = 0; i < count; i++) {
    napi_value fn;
    if (!check_status(env, napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &fn)) ||
        !set_prop(env, exports, fns[i].name, fn))
      return false;
  }
  return true;
}

bool export_constant(napi_env env, napi_value exports, const char *name, int64_t value) {
  return set_prop(env, exports, name, make_int(env, value));
}
