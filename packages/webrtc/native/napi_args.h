// Reading the arguments of the addon's functions and throwing when they are wrong: the one place
// that turns JavaScript values into C++ ones, so that every exported function checks the same way.
#pragma once

#include <node_api.h>

#include <cstddef>
#include <cstdint>

namespace dragon {

// Throws the last N-API error as a JavaScript Error unless an exception is already pending.
napi_value throwLast(napi_env env);
// Throws an Error with `message`.
napi_value fail(napi_env env, const char* message);

// The object of an external, or null when `value` is not one.
template <typename T>
T* unwrap(napi_env env, napi_value value) {
  void* data = nullptr;
  if (napi_get_value_external(env, value, &data) != napi_ok) return nullptr;
  return static_cast<T*>(data);
}

bool bufferArg(napi_env env, napi_value value, const uint8_t** data, size_t* len);
// The one integer argument of dup, close, shortenSlice and idleThread.
bool intArg(napi_env env, napi_callback_info info, int32_t* value);
napi_value number(napi_env env, double value);

}  // namespace dragon

#define CHECK(call)                                      \
  do {                                                   \
    if ((call) != napi_ok) return dragon::throwLast(env); \
  } while (0)
