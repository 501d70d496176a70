/* Module entry. NAPI_MODULE_INIT makes the addon context-aware: it is
 * initialised once per env, so every worker thread gets its own state. */
#include "common.h"

/* close(h): idempotent; accepts a socket or a queue handle. */
static napi_value close_js(napi_env env, napi_callback_info info) {
  GET_ARGS(1);
  handle *h = handle_any(env, argv[0]);
  if (h) handle_close(h);
  return NULL;
}

/* fd(h): the descriptor number, or -1 once closed. */
static napi_value fd_js(napi_env env, napi_callback_info info) {
  GET_ARGS(1);
  handle *h = handle_any(env, argv[0]);
  return h ? make_int(env, h->fd) : NULL;
}

NAPI_MODULE_INIT() {
  static const export_fn common[] = {{"close", close_js}, {"fd", fd_js}};
  if (!state_init(env) || !export_functions(env, exports, common, 2) || !dgram_register(env, exports) ||
      !mq_register(env, exports) || !udp_register(env, exports) || !eventfd_register(env, exports) ||
      !watch_register(env, exports))
    return NULL;
  return exports;
}
