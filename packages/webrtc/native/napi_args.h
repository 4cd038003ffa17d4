// Reading the arguments of the addon's functions: the one place that turns JavaScript values into
// C++ ones, so that every exported function checks the same way. A native object is only ever
// taken back from an external carrying its type's tag (a group where a stream is expected would
// otherwise be read as one); a number is only converted once it is known to be an integer in range
// (a C++ conversion of NaN, ±Infinity or an out-of-range double is undefined behaviour, and N-API's
// own int32 conversion silently wraps). A wrong argument throws TypeError (RangeError for an
// integer out of range) and the function returns at once.
#pragma once

#include <node_api.h>

#include <cstddef>
#include <cstdint>

namespace dragon {

// A kind of object the addon hands out: the tag its externals carry, and how errors name it.
struct Kind {
  napi_type_tag tag;
  const char* description;
};
extern const Kind kStreamKind;
extern const Kind kGroupKind;

// Throws the last N-API error as a JavaScript Error unless an exception is already pending.
napi_value throwLast(napi_env env);
// Throws an Error with `message`.
napi_value fail(napi_env env, const char* message);

// An external of `data` tagged as `kind`; null (an exception pending, `data` finalized) on failure.
napi_value wrapTagged(napi_env env, void* data, napi_finalize finalize, const Kind& kind);
// The data of an external tagged as `kind`; null, with a TypeError thrown, for anything else.
void* unwrapTagged(napi_env env, napi_value value, const Kind& kind, const char* name);

template <typename T>
T* unwrap(napi_env env, napi_value value, const Kind& kind, const char* name) {
  return static_cast<T*>(unwrapTagged(env, value, kind, name));
}

// An integer in [min, max] (both within ±2^53); false, with the error thrown, otherwise.
bool integerArg(napi_env env, napi_value value, const char* name, int64_t min, int64_t max, int64_t* out);
// A Buffer (Node also takes any other typed array or DataView, as bytes); false, with a TypeError
// thrown, otherwise.
bool bufferArg(napi_env env, napi_value value, const char* name, const uint8_t** data, size_t* len);
// The arguments of a call; missing ones are `undefined` (which no check accepts).
bool args(napi_env env, napi_callback_info info, size_t count, napi_value* argv);

napi_value number(napi_env env, double value);

}  // namespace dragon

#define CHECK(call)                                       \
  do {                                                    \
    if ((call) != napi_ok) return dragon::throwLast(env); \
  } while (0)
