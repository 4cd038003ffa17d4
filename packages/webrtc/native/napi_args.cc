// Argument checks and errors for the N-API glue (dragon_fanout.cc); see napi_args.h for why.
#include "napi_args.h"

#include <math.h>
#include <stdio.h>

namespace dragon {

// The tags are random constants: only the addon's own externals carry them.
const Kind kStreamKind = {{0x6d1f0c3a9b2e4f57ULL, 0xa3c48e21d7f60b95ULL}, "a stream (createStream)"};
const Kind kGroupKind = {{0x2b7e9d04c61a8f33ULL, 0x58f1e6a0b39c2d7eULL}, "a group (createGroup)"};

namespace {

napi_value throwType(napi_env env, const char* name, const char* expected) {
  char message[160];
  snprintf(message, sizeof message, "%s must be %s", name, expected);
  napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
  return nullptr;
}

}  // namespace

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

napi_value wrapTagged(napi_env env, void* data, napi_finalize finalize, const Kind& kind) {
  napi_value result;
  if (napi_create_external(env, data, finalize, nullptr, &result) != napi_ok) {
    // Not owned by an external: the caller's object is freed here, as the finalizer would have.
    finalize(env, data, nullptr);
    return throwLast(env);
  }
  if (napi_type_tag_object(env, result, &kind.tag) != napi_ok) return throwLast(env);
  return result;
}

void* unwrapTagged(napi_env env, napi_value value, const Kind& kind, const char* name) {
  napi_valuetype type;
  bool tagged = false;
  void* data = nullptr;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_external ||
      napi_check_object_type_tag(env, value, &kind.tag, &tagged) != napi_ok || !tagged ||
      napi_get_value_external(env, value, &data) != napi_ok) {
    throwType(env, name, kind.description);
    return nullptr;
  }
  return data;
}

bool integerArg(napi_env env, napi_value value, const char* name, int64_t min, int64_t max, int64_t* out) {
  napi_valuetype type;
  double d = 0;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_number || napi_get_value_double(env, value, &d) != napi_ok ||
      !isfinite(d) || trunc(d) != d) {
    throwType(env, name, "an integer");
    return false;
  }
  // Compared as doubles: min and max are exact (|x| ≤ 2^53), and so is d once it is an integer.
  if (d < double(min) || d > double(max)) {
    char message[160];
    snprintf(message, sizeof message, "%s must be an integer from %lld to %lld", name, (long long)min, (long long)max);
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", message);
    return false;
  }
  *out = int64_t(d);
  return true;
}

bool bufferArg(napi_env env, napi_value value, const char* name, const uint8_t** data, size_t* len) {
  bool isBuffer = false;
  void* d = nullptr;
  if (napi_is_buffer(env, value, &isBuffer) != napi_ok || !isBuffer || napi_get_buffer_info(env, value, &d, len) != napi_ok) {
    throwType(env, name, "a Buffer");
    return false;
  }
  *data = static_cast<const uint8_t*>(d);
  return true;
}

bool args(napi_env env, napi_callback_info info, size_t count, napi_value* argv) {
  size_t argc = count;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) == napi_ok) return true;
  throwLast(env);
  return false;
}

napi_value number(napi_env env, double value) {
  napi_value result;
  napi_create_double(env, value, &result);
  return result;
}

}  // namespace dragon
