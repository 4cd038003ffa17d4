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

using dragon::args;
using dragon::bufferArg;
using dragon::fail;
using dragon::integerArg;
using dragon::kGroupKind;
using dragon::kStreamKind;
using dragon::number;
using dragon::unwrap;

// Integers a JavaScript number holds exactly: the widest range an extended sequence number has.
constexpr int64_t kMaxSafeInteger = (int64_t(1) << 53) - 1;
constexpr int64_t kMaxInt32 = 0x7fffffff;
constexpr int64_t kMaxUint32 = 0xffffffffLL;

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
  napi_value argv[6];
  if (!args(env, info, 6, argv)) return nullptr;
  int64_t profile = 0, ssrc = 0, pt = 0;
  const uint8_t *key, *salt, *auth = nullptr;
  size_t keyLen, saltLen, authLen = 0;
  if (!integerArg(env, argv[0], "profile", 0, 0xffff, &profile) || !bufferArg(env, argv[1], "key", &key, &keyLen) ||
      !bufferArg(env, argv[2], "salt", &salt, &saltLen) ||
      (profile == dragon::kProfileAesCm128HmacSha1_80 && !bufferArg(env, argv[3], "authKey", &auth, &authLen)) ||
      !integerArg(env, argv[4], "ssrc", 0, kMaxUint32, &ssrc) ||
      !integerArg(env, argv[5], "payloadType", 0, 127, &pt))
    return nullptr;
  StreamHandle* s = new StreamHandle();
  if (!s->stream.srtp.init(int(profile), key, keyLen, salt, saltLen, auth, authLen)) {
    delete s;
    return fail(env, "unsupported SRTP profile or key sizes");
  }
  s->stream.ssrc = uint32_t(ssrc);
  s->stream.payloadType = uint8_t(pt);
  return dragon::wrapTagged(env, s, finalizeStream, kStreamKind);
}

// The socket address of `host` and `port` for a socket of `family` (4 or 6); false when `host` is
// not an address that socket can reach.
bool socketAddress(const char* host, int64_t port, int64_t family, sockaddr_storage* addr, socklen_t* addrLen) {
  in_addr v4{};
  in6_addr v6{};
  if (family == 4 && inet_pton(AF_INET, host, &v4) == 1) {
    auto* a = reinterpret_cast<sockaddr_in*>(addr);
    a->sin_family = AF_INET;
    a->sin_port = htons(uint16_t(port));
    a->sin_addr = v4;
    *addrLen = sizeof(sockaddr_in);
    return true;
  }
  if (family != 6) return false;
  auto* a = reinterpret_cast<sockaddr_in6*>(addr);
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
    return false;
  }
  *addrLen = sizeof(sockaddr_in6);
  return true;
}

// setTarget(stream, fd, host, port, family) — fd -1 stops sending.
napi_value SetTarget(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!args(env, info, 5, argv)) return nullptr;
  StreamHandle* s = unwrap<StreamHandle>(env, argv[0], kStreamKind, "stream");
  int64_t fd = -1, port = 0, family = 4;
  if (!s || !integerArg(env, argv[1], "fd", -1, kMaxInt32, &fd) || !integerArg(env, argv[3], "port", 0, 65535, &port) ||
      !integerArg(env, argv[4], "family", 4, 6, &family))
    return nullptr;
  if (family == 5) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "family must be 4 or 6");
    return nullptr;
  }
  napi_valuetype type;
  char host[64] = {0};
  size_t hostLen = 0;
  if (napi_typeof(env, argv[2], &type) != napi_ok || type != napi_string) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "host must be a string");
    return nullptr;
  }
  CHECK(napi_get_value_string_utf8(env, argv[2], host, sizeof host, &hostLen));
  sockaddr_storage addr{};
  socklen_t addrLen = 0;
  if (!socketAddress(host, port, family, &addr, &addrLen)) return fail(env, "not an IP address of the socket's family");
  s->stream.fd = int(fd);
  s->stream.addr = addr;
  s->stream.addrLen = addrLen;
  return nullptr;
}

// setCounters(stream, float64Array, index): packets, payload octets and packet octets sent are added
// to array[index], [index + 1] and [index + 2], packets dropped to array[index + 4].
napi_value SetCounters(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!args(env, info, 3, argv)) return nullptr;
  StreamHandle* s = unwrap<StreamHandle>(env, argv[0], kStreamKind, "stream");
  if (!s) return nullptr;
  bool isTypedArray = false;
  napi_typedarray_type type = napi_int8_array;
  size_t length = 0;
  void* data = nullptr;
  CHECK(napi_is_typedarray(env, argv[1], &isTypedArray));
  if (isTypedArray) CHECK(napi_get_typedarray_info(env, argv[1], &type, &length, &data, nullptr, nullptr));
  if (type != napi_float64_array) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "counters must be a Float64Array");
    return nullptr;
  }
  int64_t index = 0;
  if (length < dragon::kCounterSpan) {
    napi_throw_range_error(env, "ERR_OUT_OF_RANGE", "counters must have room for a stream's");
    return nullptr;
  }
  if (!integerArg(env, argv[2], "index", 0, int64_t(length - dragon::kCounterSpan), &index)) return nullptr;
  if (s->countersRef) napi_delete_reference(env, s->countersRef);
  CHECK(napi_create_reference(env, argv[1], 1, &s->countersRef));
  s->stream.counters = static_cast<double*>(data) + index;
  return nullptr;
}

napi_value CreateGroup(napi_env env, napi_callback_info) {
  return dragon::wrapTagged(env, new GroupHandle(), finalizeGroup, kGroupKind);
}

napi_value GroupAdd(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!args(env, info, 2, argv)) return nullptr;
  GroupHandle* g = unwrap<GroupHandle>(env, argv[0], kGroupKind, "group");
  StreamHandle* s = g ? unwrap<StreamHandle>(env, argv[1], kStreamKind, "stream") : nullptr;
  if (!s || !dragon::groupAdd(&g->group, &s->stream)) return nullptr;
  napi_ref ref;
  if (napi_create_reference(env, argv[1], 1, &ref) != napi_ok) {
    dragon::groupRemove(&g->group, &s->stream);
    return dragon::throwLast(env);
  }
  g->refs.push_back(ref);
  return nullptr;
}

napi_value GroupRemove(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!args(env, info, 2, argv)) return nullptr;
  GroupHandle* g = unwrap<GroupHandle>(env, argv[0], kGroupKind, "group");
  StreamHandle* s = g ? unwrap<StreamHandle>(env, argv[1], kStreamKind, "stream") : nullptr;
  if (!s) return nullptr;
  const long index = dragon::groupRemove(&g->group, &s->stream);
  if (index < 0) return nullptr;
  napi_delete_reference(env, g->refs[size_t(index)]);
  g->refs.erase(g->refs.begin() + index);
  return nullptr;
}

// The extended sequence number of a packet: its RTP sequence number in the low 16 bits, the count
// of wraps (the ROC the stream's own is derived from) above.
bool extArg(napi_env env, napi_value value, int64_t* ext) {
  return integerArg(env, value, "ext", 0, kMaxSafeInteger, ext);
}

// groupEnqueue(group, buffer, length, extendedSequence): queues buffer[0, length) (copied) for the
// next groupFlush; a full queue is sent first. A packet that is not RTP is dropped.
napi_value GroupEnqueue(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!args(env, info, 4, argv)) return nullptr;
  GroupHandle* g = unwrap<GroupHandle>(env, argv[0], kGroupKind, "group");
  const uint8_t* data;
  size_t capacity;
  int64_t len = 0, ext = 0;
  if (!g || !bufferArg(env, argv[1], "buffer", &data, &capacity) ||
      !integerArg(env, argv[2], "length", 0, int64_t(capacity), &len) || !extArg(env, argv[3], &ext))
    return nullptr;
  dragon::enqueue(&g->group, data, size_t(len), ext);
  return nullptr;
}

// groupFlush(group) → datagrams handed to the kernel for the packets queued since the last flush
napi_value GroupFlush(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!args(env, info, 1, argv)) return nullptr;
  GroupHandle* g = unwrap<GroupHandle>(env, argv[0], kGroupKind, "group");
  if (!g) return nullptr;
  return number(env, double(dragon::flush(&g->group)));
}

// The (stream, packet, extendedSequence) arguments of send and protect.
StreamHandle* packetArgs(napi_env env, napi_callback_info info, const uint8_t** packet, size_t* len, int64_t* ext) {
  napi_value argv[3];
  if (!args(env, info, 3, argv)) return nullptr;
  StreamHandle* s = unwrap<StreamHandle>(env, argv[0], kStreamKind, "stream");
  if (!s || !bufferArg(env, argv[1], "packet", packet, len) || !extArg(env, argv[2], ext)) return nullptr;
  return s;
}

// send(stream, packet, extendedSequence) → 1 if handed to the kernel (a retransmission, a primer)
napi_value Send(napi_env env, napi_callback_info info) {
  const uint8_t* packet;
  size_t len;
  int64_t ext;
  StreamHandle* s = packetArgs(env, info, &packet, &len, &ext);
  if (!s) return nullptr;
  return number(env, double(dragon::sendOne(&s->stream, packet, len, ext)));
}

// protect(stream, packet, extendedSequence) → the SRTP packet, or undefined when it cannot be sent.
// For streams another thread writes (ICE-TCP, TURN) and for tests; counts like a send.
napi_value Protect(napi_env env, napi_callback_info info) {
  const uint8_t* packet;
  size_t len;
  int64_t ext;
  StreamHandle* s = packetArgs(env, info, &packet, &len, &ext);
  if (!s) return nullptr;
  uint8_t out[dragon::kStride];
  const size_t outLen = dragon::protectOne(&s->stream, packet, len, ext, out);
  if (outLen == 0) return nullptr;
  napi_value result;
  CHECK(napi_create_buffer_copy(env, outLen, out, nullptr, &result));
  return result;
}

// indexBase(stream, extendedSequence): the stream's rollover counter counts from this packet's
// 65536-block, as if it had been the first packet sent: what a viewer's SRTP context expects when
// its stream is made again in a restarted data-plane worker (the first stream's base carries over).
napi_value IndexBase(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!args(env, info, 2, argv)) return nullptr;
  StreamHandle* s = unwrap<StreamHandle>(env, argv[0], kStreamKind, "stream");
  int64_t ext = 0;
  if (!s || !extArg(env, argv[1], &ext)) return nullptr;
  s->stream.based = true;
  s->stream.rocBase = ext >> 16;
  return nullptr;
}

// setOffsets(stream, seqOffset, tsOffset): the stream's output space from its next packet on
// (send_path.h, Stream::seqOffset); the shard computes them when it moves the viewer.
napi_value SetOffsets(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!args(env, info, 3, argv)) return nullptr;
  StreamHandle* s = unwrap<StreamHandle>(env, argv[0], kStreamKind, "stream");
  int64_t seqOffset = 0, tsOffset = 0;
  if (!s || !integerArg(env, argv[1], "seqOffset", -kMaxSafeInteger, kMaxSafeInteger, &seqOffset) ||
      !integerArg(env, argv[2], "tsOffset", 0, kMaxUint32, &tsOffset))
    return nullptr;
  s->stream.seqOffset = seqOffset;
  s->stream.tsOffset = uint32_t(tsOffset);
  return nullptr;
}

// The one integer argument of dup, close, shortenSlice and idleThread.
bool intArg(napi_env env, napi_callback_info info, const char* name, int64_t min, int64_t max, int64_t* value) {
  napi_value argv[1];
  return args(env, info, 1, argv) && integerArg(env, argv[0], name, min, max, value);
}

// dup(fd) → a descriptor of the same socket that the caller owns (so a socket closed elsewhere is
// never replaced under a sender by whatever file reuses its number).
napi_value Dup(napi_env env, napi_callback_info info) {
  int64_t fd = -1;
  if (!intArg(env, info, "fd", 0, kMaxInt32, &fd)) return nullptr;
  const int copy = fcntl(int(fd), F_DUPFD_CLOEXEC, 0);
  if (copy < 0) return fail(env, strerror(errno));
  return number(env, copy);
}

// shortenSlice(nanoseconds) → whether the kernel took it (thread_priority.cc).
napi_value ShortenSlice(napi_env env, napi_callback_info info) {
  int64_t slice = 0;
  if (!intArg(env, info, "nanoseconds", 0, kMaxUint32, &slice)) return nullptr;
  napi_value result;
  CHECK(napi_get_boolean(env, dragon::shortenSlice(uint32_t(slice)), &result));
  return result;
}

// idleThread(tid) → whether the kernel took it (thread_priority.cc).
napi_value IdleThread(napi_env env, napi_callback_info info) {
  int64_t tid = 0;
  if (!intArg(env, info, "tid", 0, kMaxInt32, &tid)) return nullptr;
  napi_value result;
  CHECK(napi_get_boolean(env, dragon::idleThread(int(tid)), &result));
  return result;
}

// close(fd) — a negative descriptor is none.
napi_value Close(napi_env env, napi_callback_info info) {
  int64_t fd = -1;
  if (!intArg(env, info, "fd", -1, kMaxInt32, &fd)) return nullptr;
  if (fd >= 0) close(int(fd));
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
      {"indexBase", nullptr, IndexBase, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"setOffsets", nullptr, SetOffsets, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"dup", nullptr, Dup, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"shortenSlice", nullptr, ShortenSlice, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"idleThread", nullptr, IdleThread, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"close", nullptr, Close, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
  };
  napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties);
  return exports;
}
