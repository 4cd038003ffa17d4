// Argument reading and errors for the N-API glue (dragon_fanout.cc).
#include "napi_args.h"

namespace dragon {

napi_value throwLast(napi_env env) {
  const napi_extended_error_info* info = nullptr;
  napi_get_last_error_info(env, &info);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_error(env, nullptr, info && info->error_message ? info->error_message : "napi call failed");
  return nullptr;
}

napi_value fail(napi_env env, const char* message) {
  napi_throw_error(env, nullptr, message);
  return nullptr;
}

bool bufferArg(napi_env env, napi_value value, const uint8_t** data, size_t* len) {
  void* d = nullptr;
  if (napi_get_buffer_info(env, value, &d, len) != napi_ok) return false;
  *data = static_cast<const uint8_t*>(d);
  return true;
}

bool intArg(napi_env env, napi_callback_info info, int32_t* value) {
  size_t argc = 1;
  napi_value argv[1];
  return napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) == napi_ok &&
         napi_get_value_int32(env, argv[0], value) == napi_ok;
}

napi_value number(napi_env env, double value) {
  napi_value result;
  napi_create_double(env, value, &result);
  return result;
}

}  // namespace dragon
