// The native half of @dragon/webrtc's fan-out: SRTP protection with key state prepared once per
// stream (srtp.h) and sendmmsg(2) batching of the packets a source delivered at once (a frame) to
// every viewer of a group, each viewer's run of equal-sized packets as one UDP GSO datagram.
// JavaScript decides what is sent to whom (see src/fanout/); this file only turns a plaintext RTP
// packet into SRTP and hands it to the kernel. Nothing here allocates per packet. Streams and
// groups belong to the thread that created them.
#include <node_api.h>

#include "srtp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace {

constexpr size_t kMaxTag = 16;
constexpr size_t kMaxPacket = 1500;
constexpr size_t kStride = kMaxPacket + kMaxTag;
// Packets a group queues before it must send (a keyframe is rarely more; more just means two sends).
constexpr size_t kMaxBatch = 64;
// SRTP packets protected before they are handed to the kernel (one sendmmsg(2) per socket): enough
// for the syscall to be worth it, few enough that the first viewers need not wait for the last.
constexpr size_t kFlushPackets = 64;

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103  // linux/udp.h, Linux 4.18
#endif
// UDP GSO (UDP_SEGMENT): one datagram the kernel cuts into equal segments (the last may be shorter)
// after routing, so a viewer's frame crosses the UDP/IP stack once instead of once per packet. The
// kernel takes at most 64 segments (UDP_MAX_SEGMENTS before Linux 6.2) and an IP datagram's size.
constexpr size_t kMaxSegments = 64;
constexpr size_t kMaxGsoBytes = 65000;
// All viewers behind the UDP mux share one socket send buffer (212 KB by default) while a keyframe
// to 50 viewers is ≈ 1.8 MB. On loopback the kernel frees each datagram at once; on a real link the
// datagrams wait in the queue discipline and the NIC's ring, the buffer fills and the kernel says
// EAGAIN. A flush then waits for room (the data-plane thread has nothing better to do) for up to
// this long in all, before losing the rest as a congested link would. Measured through a 1 Gbit/s
// `tbf` queue: 50 viewers × 30-packet keyframes, 79 % of the copies were lost without the wait.
constexpr int64_t kMaxSendWaitNs = 20'000'000;

using dragon::Srtp;
using dragon::kProfileAesCm128HmacSha1_80;

struct Stream {
  Srtp srtp;
  uint32_t ssrc = 0;
  uint8_t payloadType = 0;
  int fd = -1;
  sockaddr_storage addr{};
  socklen_t addrLen = 0;
  bool based = false;
  int64_t rocBase = 0;
  // [packets, payload octets, packet octets] in a Float64Array the owner reads (the first two are
  // RFC 3550 §6.4.1's sender info).
  double* counters = nullptr;
  napi_ref countersRef = nullptr;
};

struct Group {
  std::vector<Stream*> streams;
  // Strong references: a stream stays alive while a group sends to it.
  std::vector<napi_ref> refs;
  // Plaintext packets queued by groupEnqueue until groupFlush (allocated on first use).
  std::vector<uint8_t> pending;
  size_t pendingLen[kMaxBatch];
  size_t pendingHeader[kMaxBatch];
  int64_t pendingExt[kMaxBatch];
  size_t pendingCount = 0;
  // Datagrams sent by flushes a full queue forced since the last groupFlush.
  size_t sentEarly = 0;
};

// One message of a batch: `count` consecutive packets of a group's queue, from `first`, to one
// stream (more than one: a GSO datagram of `segment`-byte segments).
struct Message {
  Stream* stream;
  size_t first;
  size_t count;
};

struct Control {
  alignas(cmsghdr) uint8_t bytes[CMSG_SPACE(sizeof(uint16_t))];
};

// Per-thread scratch for one batch: the SRTP packets and their message headers.
thread_local std::vector<uint8_t> scratch;
thread_local std::vector<mmsghdr> messages;
thread_local std::vector<iovec> vectors;
thread_local std::vector<Message> batch;
thread_local std::vector<Control> controls;
// Cleared for good on this thread the first time the kernel refuses a GSO datagram (no UDP_SEGMENT
// before Linux 4.18, a route without checksum offload, IPsec): segments are then sent one by one.
thread_local bool gsoUsable = true;

int64_t monotonicNs() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return int64_t(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

// After EAGAIN: waits until the socket can take more or `*deadline` (set on the first wait of a
// flush) passes. True when it is worth sending again.
bool waitForRoom(int fd, int64_t* deadline) {
  const int64_t now = monotonicNs();
  if (*deadline == 0) *deadline = now + kMaxSendWaitNs;
  if (now >= *deadline) return false;
  pollfd p{fd, POLLOUT, 0};
  const int ms = int((*deadline - now + 999'999) / 1'000'000);
  return poll(&p, 1, ms) > 0 && (p.revents & POLLOUT) != 0;
}

// RFC 3550 §5.1: fixed header, CSRCs, then the extension (4-byte header + length words).
size_t rtpHeaderLength(const uint8_t* p, size_t len) {
  if (len < 12 || (p[0] >> 6) != 2) return 0;
  size_t h = 12 + size_t(p[0] & 0x0f) * 4;
  if (p[0] & 0x10) {
    if (len < h + 4) return 0;
    h += 4 + size_t((p[h + 2] << 8) | p[h + 3]) * 4;
  }
  return h <= len ? h : 0;
}

// Copies the packet into `out` as this stream's: its SSRC and payload type, then protects it.
// Returns 0 when the packet cannot be sent to this stream (older than its first packet, malformed).
size_t prepare(Stream* s, const uint8_t* packet, size_t len, size_t headerLen, int64_t ext, uint8_t* out) {
  if (!s->based) {
    s->based = true;
    s->rocBase = ext >> 16;
  }
  const int64_t roc = (ext >> 16) - s->rocBase;
  if (roc < 0 || roc > 0xffffffffLL) return 0;
  memcpy(out, packet, len);
  out[1] = uint8_t((packet[1] & 0x80) | s->payloadType);
  out[8] = uint8_t(s->ssrc >> 24);
  out[9] = uint8_t(s->ssrc >> 16);
  out[10] = uint8_t(s->ssrc >> 8);
  out[11] = uint8_t(s->ssrc);
  const uint16_t seq = uint16_t((packet[2] << 8) | packet[3]);
  return s->srtp.protect(out, len, headerLen, s->ssrc, seq, uint32_t(roc));
}

void count(Stream* s, size_t len, size_t payloadLen) {
  if (!s->counters) return;
  s->counters[0] += 1;
  s->counters[1] += double(payloadLen);
  s->counters[2] += double(len);
}

bool gsoRefused(int error) {
  return error == EIO || error == EINVAL || error == EOPNOTSUPP || error == ENOPROTOOPT;
}

// Sends `batch` (messages[i] ↔ batch[i]) with one sendmmsg(2) per run of messages on one socket and
// counts every packet sent; `lens` and `headers` are the plaintext sizes of the packets the
// messages' `first`/`count` index. A full socket buffer is waited out for a while (waitForRoom),
// then drops the rest for that socket; a failed destination loses its message only; a refused GSO
// datagram is sent again segment by segment.
size_t flushBatch(size_t n, const size_t* lens, const size_t* headers) {
  size_t sent = 0;
  size_t start = 0;
  int64_t deadline = 0;
  const auto counted = [&](size_t index) {
    const Message& m = batch[index];
    for (size_t i = m.first; i < m.first + m.count; i++) count(m.stream, lens[i], lens[i] - headers[i]);
    sent += m.count;
  };
  while (start < n) {
    const int fd = batch[start].stream->fd;
    size_t end = start + 1;
    while (end < n && batch[end].stream->fd == fd) end++;
    while (start < end) {
      const int r = sendmmsg(fd, &messages[start], unsigned(end - start), MSG_DONTWAIT);
      if (r > 0) {
        for (int i = 0; i < r; i++) counted(start + size_t(i));
        start += size_t(r);
        continue;
      }
      if (r < 0 && errno == EINTR) continue;
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && waitForRoom(fd, &deadline)) continue;
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
        start = end;
        break;
      }
      mmsghdr& failed = messages[start];
      if (failed.msg_hdr.msg_controllen > 0 && gsoRefused(errno)) {
        gsoUsable = false;
        const Message& m = batch[start];
        msghdr single = failed.msg_hdr;
        single.msg_control = nullptr;
        single.msg_controllen = 0;
        single.msg_iovlen = 1;
        for (size_t i = 0; i < m.count; i++) {
          single.msg_iov = failed.msg_hdr.msg_iov + i;
          if (sendmsg(fd, &single, MSG_DONTWAIT) >= 0) {
            count(m.stream, lens[m.first + i], lens[m.first + i] - headers[m.first + i]);
            sent++;
          }
        }
      }
      start++;
    }
  }
  return sent;
}

// Protects every queued packet for every stream of the group and sends them: per stream, runs of
// equal-sized SRTP packets (the last of a run may be shorter) become one GSO datagram each. What is
// protected goes to the kernel every kFlushPackets packets, so the first viewers' copies leave while
// the next viewers' are being protected rather than all at the end.
size_t flushGroup(Group* g) {
  const size_t k = g->pendingCount;
  if (k == 0) return 0;
  g->pendingCount = 0;
  const size_t capacity = kFlushPackets + kMaxBatch;
  if (scratch.size() < capacity * kStride) scratch.resize(capacity * kStride);
  if (messages.size() < capacity) {
    messages.resize(capacity);
    vectors.resize(capacity);
    batch.resize(capacity);
    controls.resize(capacity);
  }
  size_t sent = 0;
  size_t slots = 0;
  size_t n = 0;
  for (Stream* s : g->streams) {
    if (s->fd < 0) continue;
    size_t lens[kMaxBatch];
    uint8_t* outs = scratch.data() + slots * kStride;
    for (size_t i = 0; i < k; i++) {
      lens[i] = prepare(s, g->pending.data() + i * kMaxPacket, g->pendingLen[i], g->pendingHeader[i], g->pendingExt[i],
                        outs + i * kStride);
      vectors[slots + i] = {outs + i * kStride, lens[i]};
    }
    for (size_t i = 0; i < k;) {
      if (lens[i] == 0) {
        i++;
        continue;
      }
      const size_t segment = lens[i];
      size_t j = i + 1;
      if (gsoUsable) {
        while (j < k && lens[j] != 0 && j - i < kMaxSegments && (j - i + 1) * segment <= kMaxGsoBytes) {
          if (lens[j] > segment) break;
          j++;
          if (lens[j - 1] < segment) break;  // a shorter segment can only be the last
        }
      }
      mmsghdr& m = messages[n];
      memset(&m, 0, sizeof m);
      m.msg_hdr.msg_name = &s->addr;
      m.msg_hdr.msg_namelen = s->addrLen;
      m.msg_hdr.msg_iov = &vectors[slots + i];
      m.msg_hdr.msg_iovlen = j - i;
      if (j - i > 1) {
        m.msg_hdr.msg_control = controls[n].bytes;
        m.msg_hdr.msg_controllen = sizeof controls[n].bytes;
        cmsghdr* c = CMSG_FIRSTHDR(&m.msg_hdr);
        c->cmsg_level = SOL_UDP;
        c->cmsg_type = UDP_SEGMENT;
        c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
        const uint16_t size = uint16_t(segment);
        memcpy(CMSG_DATA(c), &size, sizeof size);
      }
      batch[n] = {s, i, j - i};
      n++;
      i = j;
    }
    slots += k;
    if (slots >= kFlushPackets) {
      sent += flushBatch(n, g->pendingLen, g->pendingHeader);
      slots = 0;
      n = 0;
    }
  }
  return sent + flushBatch(n, g->pendingLen, g->pendingHeader);
}

// One packet to one stream (a retransmission, a primer), through the same send path as a batch.
size_t sendOne(Stream* s, const uint8_t* packet, size_t len, int64_t ext) {
  const size_t headerLen = rtpHeaderLength(packet, len);
  if (s->fd < 0 || headerLen == 0 || len > kMaxPacket) return 0;
  if (scratch.size() < kStride) scratch.resize(kStride);
  if (messages.empty()) {
    messages.resize(1);
    vectors.resize(1);
    batch.resize(1);
  }
  const size_t outLen = prepare(s, packet, len, headerLen, ext, scratch.data());
  if (outLen == 0) return 0;
  vectors[0] = {scratch.data(), outLen};
  mmsghdr& m = messages[0];
  memset(&m, 0, sizeof m);
  m.msg_hdr.msg_name = &s->addr;
  m.msg_hdr.msg_namelen = s->addrLen;
  m.msg_hdr.msg_iov = &vectors[0];
  m.msg_hdr.msg_iovlen = 1;
  batch[0] = {s, 0, 1};
  return flushBatch(1, &len, &headerLen);
}

// ---- N-API glue ----

#define CHECK(call)                                   \
  do {                                                \
    if ((call) != napi_ok) return throwLast(env);     \
  } while (0)

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

template <typename T>
T* unwrap(napi_env env, napi_value value) {
  void* data = nullptr;
  if (napi_get_value_external(env, value, &data) != napi_ok) return nullptr;
  return static_cast<T*>(data);
}

bool bufferArg(napi_env env, napi_value value, const uint8_t** data, size_t* len) {
  void* d = nullptr;
  if (napi_get_buffer_info(env, value, &d, len) != napi_ok) return false;
  *data = static_cast<const uint8_t*>(d);
  return true;
}

// The one integer argument of dup, close, shortenSlice and idleThread.
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

void finalizeStream(napi_env env, void* data, void*) {
  Stream* s = static_cast<Stream*>(data);
  if (s->countersRef) napi_delete_reference(env, s->countersRef);
  delete s;
}

void finalizeGroup(napi_env env, void* data, void*) {
  Group* g = static_cast<Group*>(data);
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
  if (profile == kProfileAesCm128HmacSha1_80 && !bufferArg(env, argv[3], &auth, &authLen))
    return fail(env, "the AES-CM profile needs an authentication key");
  CHECK(napi_get_value_uint32(env, argv[4], &ssrc));
  CHECK(napi_get_value_uint32(env, argv[5], &pt));
  Stream* s = new Stream();
  if (!s->srtp.init(profile, key, keyLen, salt, saltLen, auth, authLen)) {
    delete s;
    return fail(env, "unsupported SRTP profile or key sizes");
  }
  s->ssrc = ssrc;
  s->payloadType = uint8_t(pt & 0x7f);
  napi_value result;
  CHECK(napi_create_external(env, s, finalizeStream, nullptr, &result));
  return result;
}

// setTarget(stream, fd, host, port, family) — fd -1 stops sending.
napi_value SetTarget(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  Stream* s = unwrap<Stream>(env, argv[0]);
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
  s->fd = fd;
  s->addr = addr;
  s->addrLen = addrLen;
  return nullptr;
}

// setCounters(stream, float64Array, index): packets, payload octets and packet octets are added to
// array[index], [index + 1] and [index + 2].
napi_value SetCounters(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  Stream* s = unwrap<Stream>(env, argv[0]);
  if (!s || argc < 3) return fail(env, "setCounters(stream, array, index)");
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  CHECK(napi_get_typedarray_info(env, argv[1], &type, &length, &data, nullptr, nullptr));
  uint32_t index = 0;
  CHECK(napi_get_value_uint32(env, argv[2], &index));
  if (type != napi_float64_array || size_t(index) + 3 > length) return fail(env, "counters out of range");
  if (s->countersRef) napi_delete_reference(env, s->countersRef);
  CHECK(napi_create_reference(env, argv[1], 1, &s->countersRef));
  s->counters = static_cast<double*>(data) + index;
  return nullptr;
}

napi_value CreateGroup(napi_env env, napi_callback_info) {
  napi_value result;
  CHECK(napi_create_external(env, new Group(), finalizeGroup, nullptr, &result));
  return result;
}

napi_value GroupAdd(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  Group* g = unwrap<Group>(env, argv[0]);
  Stream* s = unwrap<Stream>(env, argv[1]);
  if (!g || !s) return fail(env, "groupAdd(group, stream)");
  if (std::find(g->streams.begin(), g->streams.end(), s) != g->streams.end()) return nullptr;
  napi_ref ref;
  CHECK(napi_create_reference(env, argv[1], 1, &ref));
  g->streams.push_back(s);
  g->refs.push_back(ref);
  return nullptr;
}

napi_value GroupRemove(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  Group* g = unwrap<Group>(env, argv[0]);
  Stream* s = unwrap<Stream>(env, argv[1]);
  if (!g || !s) return fail(env, "groupRemove(group, stream)");
  const auto it = std::find(g->streams.begin(), g->streams.end(), s);
  if (it == g->streams.end()) return nullptr;
  const size_t index = size_t(it - g->streams.begin());
  napi_delete_reference(env, g->refs[index]);
  g->streams.erase(it);
  g->refs.erase(g->refs.begin() + std::ptrdiff_t(index));
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
  Group* g = unwrap<Group>(env, argv[0]);
  const uint8_t* data;
  size_t capacity;
  uint32_t len = 0;
  double e = 0;
  if (!g || argc < 4 || !bufferArg(env, argv[1], &data, &capacity) || napi_get_value_uint32(env, argv[2], &len) != napi_ok ||
      napi_get_value_double(env, argv[3], &e) != napi_ok || len > capacity)
    return fail(env, "groupEnqueue(group, buffer, length, ext)");
  const size_t headerLen = rtpHeaderLength(data, len);
  if (headerLen == 0 || len > kMaxPacket) return nullptr;
  if (g->pendingCount == kMaxBatch) g->sentEarly += flushGroup(g);
  if (g->pending.empty()) g->pending.resize(kMaxBatch * kMaxPacket);
  const size_t i = g->pendingCount++;
  memcpy(g->pending.data() + i * kMaxPacket, data, len);
  g->pendingLen[i] = len;
  g->pendingHeader[i] = headerLen;
  g->pendingExt[i] = int64_t(e);
  return nullptr;
}

// groupFlush(group) → datagrams handed to the kernel for the packets queued since the last flush
napi_value GroupFlush(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  Group* g = unwrap<Group>(env, argv[0]);
  if (!g) return fail(env, "groupFlush(group)");
  const size_t sent = g->sentEarly + flushGroup(g);
  g->sentEarly = 0;
  return number(env, double(sent));
}

// send(stream, packet, extendedSequence) → 1 if handed to the kernel (a retransmission, a primer)
napi_value Send(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  Stream* s = unwrap<Stream>(env, argv[0]);
  const uint8_t* packet;
  size_t len;
  int64_t ext;
  if (!s || argc < 3 || !packetArgs(env, argv, &packet, &len, &ext)) return fail(env, "send(stream, packet, ext)");
  return number(env, double(sendOne(s, packet, len, ext)));
}

// protect(stream, packet, extendedSequence) → the SRTP packet, or undefined when it cannot be sent.
// For streams another thread writes (ICE-TCP, TURN) and for tests; counts like a send.
napi_value Protect(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CHECK(napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  Stream* s = unwrap<Stream>(env, argv[0]);
  const uint8_t* packet;
  size_t len;
  int64_t ext;
  if (!s || argc < 3 || !packetArgs(env, argv, &packet, &len, &ext)) return fail(env, "protect(stream, packet, ext)");
  const size_t headerLen = rtpHeaderLength(packet, len);
  if (headerLen == 0 || len > kMaxPacket) return nullptr;
  uint8_t out[kStride];
  const size_t outLen = prepare(s, packet, len, headerLen, ext, out);
  if (outLen == 0) return nullptr;
  count(s, len, len - headerLen);
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

// The part of struct sched_attr that sched_setattr(2) reads for SCHED_OTHER (glibc wraps the call
// only since 2.41).
struct SchedAttr {
  uint32_t size;
  uint32_t policy;
  uint64_t flags;
  int32_t nice;
  uint32_t priority;
  uint64_t runtime;
  uint64_t deadline;
  uint64_t period;
};

// shortenSlice(nanoseconds) → whether the kernel took it. Asks the scheduler for a short time slice
// for the calling thread (EEVDF, Linux 6.12+: a thread with a shorter slice may preempt the running
// one when it wakes). The data plane sleeps between frames and runs briefly; without this, a frame
// can wait behind the API thread's and V8's helper threads' whole slices (measured: up to 9 ms on a
// hammered core). Unprivileged; the nice value is left as it is; older kernels refuse or ignore it.
napi_value ShortenSlice(napi_env env, napi_callback_info info) {
  int32_t slice = 0;
  if (!intArg(env, info, &slice)) return throwLast(env);
  SchedAttr attr{};
  attr.size = sizeof attr;
  attr.policy = 0;  // SCHED_OTHER
  attr.nice = getpriority(PRIO_PROCESS, 0);
  attr.runtime = uint32_t(slice);
  napi_value result;
  CHECK(napi_get_boolean(env, syscall(SYS_sched_setattr, 0, &attr, 0) == 0, &result));
  return result;
}

// idleThread(tid) → whether the kernel took it. Moves a thread of this process to SCHED_IDLE: a
// thread of any other policy that wakes on its core preempts it at once, where a nice value only
// weighs shares and the scheduler (EEVDF) may still let the running thread finish its slice.
// Measured at 50 viewers: with the API, V8's helpers and FFmpeg at nice 10, the data plane still
// waited for FFmpeg to write a frame and for garbage collections (docs/performance.md). Allowed
// without privilege in this direction only: leaving SCHED_IDLE takes CAP_SYS_NICE.
napi_value IdleThread(napi_env env, napi_callback_info info) {
  int32_t tid = 0;
  if (!intArg(env, info, &tid)) return throwLast(env);
  const sched_param param{};
  napi_value result;
  CHECK(napi_get_boolean(env, tid > 0 && sched_setscheduler(tid, SCHED_IDLE, &param) == 0, &result));
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
