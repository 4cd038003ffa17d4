// The N-API face of @dragon/webrtc's native fan-out (dragon-fanout.node): the functions
// src/fanout/native-addon.ts declares, each reading its arguments (napi_args.h) and calling the
// send path (send_path.h), SRTP (srtp.h) or the scheduler (thread_priority.h). JavaScript decides
// what is sent to whom (see src/fanout/); nothing here runs per packet but the call itself. The
// JavaScript objects that hold a stream or a group keep the native one alive.
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <vector>

#include "napi_args.h"
#include "send_path.h"
#include "thread_priority.h"

namespace {

using dragon::bufferArg;
using dragon::fail;
using dragon::intArg;
using dragon::number;
using dragon::throwLast;
using dragon::unwrap;

// A stream as JavaScript holds it: the send path's stream and the counters array it writes into.
struct StreamHandle {
  dragon::Stream stream;
  napi_ref countersRef = nullptr;
};

// A group as JavaScript holds it: strong references keep its streams alive while it sends to them
// (refs[i] ↔ group.streams[i]).
struct GroupHandle {
  dragon::Group group;
  std::vector<napi_ref> refs;
};

void finalizeStream(napi_env env, void* data, void*) {
  StreamHandle* s = static_cast<StreamHandle*>(data);
  if (s->countersRef) napi_delete_reference(env, s->countersRef);
  delete s;
}

void finalizeGroup(napi_env env, void* data, void*) {
  GroupHandle* g = static_cast<GroupHandle*>(data);
  for (napi_ref ref : g->refs) napi_delete_reference(env, ref);
  delete g;
}

// createStream(profile, key, salt, authKey, ssrc, payloadType) → stream
napi_value CreateStream(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 6) return fail(env, "createStream(profile, key, salt, authKey, ssrc, payloadType)");
  int32_t profile = 0;
  uint32_t ssrc = 0, pt = 0;
  CHECK(napi_get_value_int32(env, argv[0], &profile));
  const uint8_t *key, *salt, *auth = nullptr;
  size_t keyLen, saltLen, authLen = 0;
  if (!bufferArg(env, argv[1], &key, &keyLen) || !bufferArg(env, argv[2], &salt, &saltLen))
    return fail(env, "key and salt must be Buffers");
  if (profile == dragon::kProfileAesCm128HmacSha1_80 && !bufferArg(env, argv[3], &auth, &authLen))
    return fail(env, "the AES-CM profile needs an authentication key");
  CHECK(napi_get_value_uint32(env, argv[4], &ssrc));
  CHECK(napi_get_value_uint32(env, argv[5], &pt));
  StreamHandle* s = new StreamHandle();
  if (!s->stream.srtp.init(profile, key, keyLen, salt, saltLen, auth, authLen)) {
    delete s;
    return fail(env, "unsupported SRTP profile or key sizes");
  }
  s->stream.ssrc = ssrc;
  s->stream.payloadType = uint8_t(pt & 0x7f);
  napi_value result;
  CHECK(napi_create_external(env, s, finalizeStream, nullptr, &result));
  return result;
}

// setTarget(stream, fd, host, port, family) — fd -1 stops sending.
napi_value SetTarget(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  StreamHandle* s = unwrap<StreamHandle>(env, argv[0]);
  if (!s || argc < 5) return fail(env, "setTarget(stream, fd, host, port, family)");
  int32_t fd = -1, port = 0, family = 4;
  CHECK(napi_get_value_int32(env, argv[1], &fd));
  CHECK(napi_get_value_int32(env, argv[3], &port));
  CHECK(napi_get_value_int32(env, argv[4], &family));
  char host[64] = {0};
  size_t hostLen = 0;
  CHECK(napi_get_value_string_utf8(env, argv[2], host, sizeof host, &hostLen));
  sockaddr_storage addr{};
  socklen_t addrLen = 0;
  in_addr v4{};
  in6_addr v6{};
  if (family == 4 && inet_pton(AF_INET, host, &v4) == 1) {
    auto* a = reinterpret_cast<sockaddr_in*>(&addr);
    a->sin_family = AF_INET;
    a->sin_port = htons(uint16_t(port));
    a->sin_addr = v4;
    addrLen = sizeof(sockaddr_in);
  } else if (family == 6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(uint16_t(port));
    if (inet_pton(AF_INET6, host, &v6) == 1) {
      a->sin6_addr = v6;
    } else if (inet_pton(AF_INET, host, &v4) == 1) {
      // An IPv4 peer reached from a dual-stack socket: the v4-mapped form (RFC 4291 §2.5.5.2).
      a->sin6_addr.s6_addr[10] = 0xff;
      a->sin6_addr.s6_addr[11] = 0xff;
      memcpy(&a->sin6_addr.s6_addr[12], &v4, 4);
    } else {
      return fail(env, "not an IP address");
    }
    addrLen = sizeof(sockaddr_in6);
  } else {
    return fail(env, "not an IP address of the socket's family");
  }
  s->stream.fd = fd;
  s->stream.addr = addr;
  s->stream.addrLen = addrLen;
  return nullptr;
}

// setCounters(stream, float64Array, index): packets, payload octets and packet octets are added to
// array[index], [index + 1] and [index + 2].
napi_value SetCounters(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  StreamHandle* s = unwrap<StreamHandle>(env, argv[0]);
  if (!s || argc < 3) return fail(env, "setCounters(stream, array, index)");
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  CHECK(napi_get_typedarray_info(env, argv[1], &type, &length, &data, nullptr, nullptr));
  uint32_t index = 0;
  CHECK(napi_get_value_uint32(env, argv[2], &index));
  if (type != napi_float64_array || size_t(index) + dragon::kCounterSpan > length)
    return fail(env, "counters out of range");
  if (s->countersRef) napi_delete_reference(env, s->countersRef);
  CHECK(napi_create_reference(env, argv[1], 1, &s->countersRef));
  s->stream.counters = static_cast<double*>(data) + index;
  return nullptr;
}

napi_value CreateGroup(napi_env env, napi_callback_info) {
  napi_value result;
  CHECK(napi_create_external(env, new GroupHandle(), finalizeGroup, nullptr, &result));
  return result;
}

napi_value GroupAdd(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  GroupHandle* g = unwrap<GroupHandle>(env, argv[0]);
  StreamHandle* s = unwrap<StreamHandle>(env, argv[1]);
  if (!g || !s) return fail(env, "groupAdd(group, stream)");
  if (!dragon::groupAdd(&g->group, &s->stream)) return nullptr;
  napi_ref ref;
  CHECK(napi_create_reference(env, argv[1], 1, &ref));
  g->refs.push_back(ref);
  return nullptr;
}

napi_value GroupRemove(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  GroupHandle* g = unwrap<GroupHandle>(env, argv[0]);
  StreamHandle* s = unwrap<StreamHandle>(env, argv[1]);
  if (!g || !s) return fail(env, "groupRemove(group, stream)");
  const long index = dragon::groupRemove(&g->group, &s->stream);
  if (index < 0) return nullptr;
  napi_delete_reference(env, g->refs[size_t(index)]);
  g->refs.erase(g->refs.begin() + index);
  return nullptr;
}

bool packetArgs(napi_env env, napi_value* argv, const uint8_t** packet, size_t* len, int64_t* ext) {
  double e = 0;
  if (!bufferArg(env, argv[1], packet, len)) return false;
  if (napi_get_value_double(env, argv[2], &e) != napi_ok) return false;
  *ext = int64_t(e);
  return true;
}

// groupEnqueue(group, buffer, length, extendedSequence): queues buffer[0, length) (copied) for the
// next groupFlush; a full queue is sent first. A packet that is not RTP is dropped.
napi_value GroupEnqueue(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  GroupHandle* g = unwrap<GroupHandle>(env, argv[0]);
  const uint8_t* data;
  size_t capacity;
  uint32_t len = 0;
  double e = 0;
  if (!g || argc < 4 || !bufferArg(env, argv[1], &data, &capacity) || napi_get_value_uint32(env, argv[2], &len) != napi_ok ||
      napi_get_value_double(env, argv[3], &e) != napi_ok || len > capacity)
    return fail(env, "groupEnqueue(group, buffer, length, ext)");
  dragon::enqueue(&g->group, data, len, int64_t(e));
  return nullptr;
}

// groupFlush(group) → datagrams handed to the kernel for the packets queued since the last flush
napi_value GroupFlush(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  GroupHandle* g = unwrap<GroupHandle>(env, argv[0]);
  if (!g) return fail(env, "groupFlush(group)");
  return number(env, double(dragon::flush(&g->group)));
}

// send(stream, packet, extendedSequence) → 1 if handed to the kernel (a retransmission, a primer)
napi_value Send(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  StreamHandle* s = unwrap<StreamHandle>(env, argv[0]);
  const uint8_t* packet;
  size_t len;
  int64_t ext;
  if (!s || argc < 3 || !packetArgs(env, argv, &packet, &len, &ext)) return fail(env, "send(stream, packet, ext)");
  return number(env, double(dragon::sendOne(&s->stream, packet, len, ext)));
}

// protect(stream, packet, extendedSequence) → the SRTP packet, or undefined when it cannot be sent.
// For streams another thread writes (ICE-TCP, TURN) and for tests; counts like a send.
napi_value Protect(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  StreamHandle* s = unwrap<StreamHandle>(env, argv[0]);
  const uint8_t* packet;
  size_t len;
  int64_t ext;
  if (!s || argc < 3 || !packetArgs(env, argv, &packet, &len, &ext)) return fail(env, "protect(stream, packet, ext)");
  uint8_t out[dragon::kStride];
  const size_t outLen = dragon::protectOne(&s->stream, packet, len, ext, out);
  if (outLen == 0) return nullptr;
  napi_value result;
  CHECK(napi_create_buffer_copy(env, outLen, out, nullptr, &result));
  return result;
}

// dup(fd) → a descriptor of the same socket that the caller owns (so a socket closed elsewhere is
// never replaced under a sender by whatever file reuses its number).
napi_value Dup(napi_env env, napi_callback_info info) {
  int32_t fd = -1;
  if (!intArg(env, info, &fd)) return throwLast(env);
  const int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
  if (copy < 0) return fail(env, strerror(errno));
  return number(env, copy);
}

// shortenSlice(nanoseconds) → whether the kernel took it (thread_priority.cc).
napi_value ShortenSlice(napi_env env, napi_callback_info info) {
  int32_t slice = 0;
  if (!intArg(env, info, &slice)) return throwLast(env);
  napi_value result;
  CHECK(napi_get_boolean(env, dragon::shortenSlice(uint32_t(slice)), &result));
  return result;
}

// idleThread(tid) → whether the kernel took it (thread_priority.cc).
napi_value IdleThread(napi_env env, napi_callback_info info) {
  int32_t tid = 0;
  if (!intArg(env, info, &tid)) return throwLast(env);
  napi_value result;
  CHECK(napi_get_boolean(env, dragon::idleThread(tid), &result));
  return result;
}

napi_value Close(napi_env env, napi_callback_info info) {
  int32_t fd = -1;
  if (!intArg(env, info, &fd)) return throwLast(env);
  if (fd >= 0) close(fd);
  return nullptr;
}

}  // namespace

NAPI_MODULE_INIT() {
  const napi_property_descriptor properties[] = {
      {"createStream", nullptr, CreateStream, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"setTarget", nullptr, SetTarget, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"setCounters", nullptr, SetCounters, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"createGroup", nullptr, CreateGroup, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"groupAdd", nullptr, GroupAdd, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"groupRemove", nullptr, GroupRemove, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"groupEnqueue", nullptr, GroupEnqueue, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"groupFlush", nullptr, GroupFlush, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"send", nullptr, Send, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"protect", nullptr, Protect, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"dup", nullptr, Dup, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"shortenSlice", nullptr, ShortenSlice, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"idleThread", nullptr, IdleThread, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"close", nullptr, Close, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
  };
  napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties);
  return exports;
}
