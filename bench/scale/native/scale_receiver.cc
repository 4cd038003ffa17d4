// The receive side of the scale benchmark's load generator: viewers whose ICE and DTLS a werift peer
// completed hand their UDP socket (a dup of its fd) and SRTP keys to this addon, and one thread
// reads them all with epoll + recvmmsg. Per viewer it counts RTP packets and bytes, follows each
// stream's sequence numbers (RFC 3550 §A.3: expected − received = lost), verifies the SRTP tag of
// one packet in 64, answers STUN binding requests (the server's RFC 7675 consent checks) and sends
// an SRTCP receiver report every second, as a browser does. It never decrypts a payload it does not
// sample: that is what lets one core stand for a thousand viewers.
//
// A benchmark tool, not part of @dragon/webrtc: the product's addon stays what the server ships.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <node_api.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <thread>

#include "sequence.h"
#include "srtp_check.h"
#include "stun_reply.h"

namespace {

using scale::SequenceTracker;
using scale::SrtpKeys;

constexpr int kMaxViewers = 8192;
constexpr int kMaxStreams = 4;
constexpr int kBatch = 64;
constexpr int kSampleEvery = 64;
constexpr size_t kMaxPacket = 2048;

// One counter written by the receiving thread only and read by JavaScript: relaxed loads and
// stores are plain moves, no locked instruction per packet.
struct Counter {
  std::atomic<uint64_t> value{0};
  void add(uint64_t n) { value.store(value.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  double get() const { return double(value.load(std::memory_order_relaxed)); }
};

struct Stream {
  uint32_t ssrc = 0;
  bool used = false;
  SequenceTracker seq;
  uint32_t rocBase = 0;
  uint32_t lastExpected = 0;
  uint32_t lastReceived = 0;
};

struct Viewer;

// One of a viewer's UDP sockets (a dup of werift's): werift gathers a host candidate per socket and
// the server may pick any pair, so every one is read.
struct Socket {
  Viewer* viewer = nullptr;
  int fd = -1;
};

constexpr int kMaxSockets = 4;

struct Viewer {
  Socket sockets[kMaxSockets];
  int socketCount = 0;
  // Where reports go: the nominated pair at first, then the socket and address media arrives from.
  int fd = -1;
  sockaddr_in remote{};
  SrtpKeys rtpIn;      // the server's SRTP keys: what it sends us
  SrtpKeys rtcpOut;    // our SRTCP keys: what we send it
  char icePassword[257] = {};
  size_t icePasswordLength = 0;
  uint32_t rtcpSsrc = 0;
  uint32_t srtcpIndex = 0;
  uint64_t nextReportNs = 0;
  uint32_t sampleCountdown = 0;
  std::atomic<bool> active{true};
  Stream streams[kMaxStreams];
  std::atomic<uint32_t> streamCount{0};
  Counter packets, bytes, authChecked, authFailed, rtcpIn, stunRequests, stunOther, reportsSent, other;
};

struct Receiver {
  int epoll = -1;
  std::atomic<bool> running{false};
  std::thread thread;
  Viewer* viewers[kMaxViewers] = {};
  std::atomic<int> count{0};
  Counter batches, readCalls;
  std::atomic<int64_t> threadCpuNs{0};
};

Receiver* receiver = nullptr;

uint64_t nowNs() {
  timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return uint64_t(t.tv_sec) * 1000000000ull + uint64_t(t.tv_nsec);
}

Stream* streamFor(Viewer* v, uint32_t ssrc) {
  const uint32_t n = v->streamCount.load(std::memory_order_relaxed);
  for (uint32_t i = 0; i < n; i++)
    if (v->streams[i].ssrc == ssrc) return &v->streams[i];
  if (n == kMaxStreams) return nullptr;
  Stream* s = &v->streams[n];
  s->ssrc = ssrc;
  s->used = true;
  v->streamCount.store(n + 1, std::memory_order_release);
  return s;
}

void onRtp(Viewer* v, uint8_t* data, size_t len, int fd, const sockaddr_in& from) {
  if (fd != v->fd || from.sin_port != v->remote.sin_port || from.sin_addr.s_addr != v->remote.sin_addr.s_addr) {
    v->fd = fd;
    v->remote = from;
  }
  if (len < 12 + v->rtpIn.tagLength()) return v->other.add(1);
  const uint32_t ssrc = (uint32_t(data[8]) << 24) | (uint32_t(data[9]) << 16) | (uint32_t(data[10]) << 8) | data[11];
  const uint16_t seq = uint16_t((data[2] << 8) | data[3]);
  Stream* s = streamFor(v, ssrc);
  if (!s) return v->other.add(1);
  const uint64_t ext = s->seq.update(seq);
  v->packets.add(1);
  v->bytes.add(len);
  if (v->sampleCountdown-- == 0) {
    v->sampleCountdown = kSampleEvery - 1;
    const uint32_t roc = s->rocBase + uint32_t(ext >> 16);
    v->authChecked.add(1);
    if (!v->rtpIn.verifyRtp(data, len, roc)) v->authFailed.add(1);
  }
}

void sendReport(Viewer* v) {
  const uint32_t n = v->streamCount.load(std::memory_order_relaxed);
  uint8_t packet[8 + 24 * kMaxStreams + 64];
  size_t len = 8;
  uint32_t blocks = 0;
  for (uint32_t i = 0; i < n; i++) {
    Stream& s = v->streams[i];
    if (!s.seq.started()) continue;
    // RFC 3550 §6.4.1: fraction lost over the interval, cumulative lost, extended highest sequence.
    const uint32_t expected = uint32_t(s.seq.expected());
    const uint32_t received = uint32_t(s.seq.received());
    const uint32_t expectedInterval = expected - s.lastExpected;
    const uint32_t receivedInterval = received - s.lastReceived;
    s.lastExpected = expected;
    s.lastReceived = received;
    const int64_t lostInterval = int64_t(expectedInterval) - int64_t(receivedInterval);
    const uint8_t fraction =
        expectedInterval == 0 || lostInterval <= 0 ? 0 : uint8_t((lostInterval << 8) / expectedInterval);
    int64_t lost = s.seq.lost();
    if (lost > 0x7fffff) lost = 0x7fffff;
    const uint32_t highest = uint32_t(s.seq.highest() + (uint64_t(s.rocBase) << 16));
    uint8_t* b = packet + len;
    const uint32_t words[6] = {s.ssrc, (uint32_t(fraction) << 24) | (uint32_t(lost) & 0xffffff), highest, 0, 0, 0};
    for (int w = 0; w < 6; w++) {
      b[w * 4] = uint8_t(words[w] >> 24);
      b[w * 4 + 1] = uint8_t(words[w] >> 16);
      b[w * 4 + 2] = uint8_t(words[w] >> 8);
      b[w * 4 + 3] = uint8_t(words[w]);
    }
    len += 24;
    blocks++;
  }
  packet[0] = uint8_t(0x80 | blocks);
  packet[1] = 201;  // RR
  const uint16_t words = uint16_t(len / 4 - 1);
  packet[2] = uint8_t(words >> 8);
  packet[3] = uint8_t(words);
  packet[4] = uint8_t(v->rtcpSsrc >> 24);
  packet[5] = uint8_t(v->rtcpSsrc >> 16);
  packet[6] = uint8_t(v->rtcpSsrc >> 8);
  packet[7] = uint8_t(v->rtcpSsrc);
  const size_t out = v->rtcpOut.protectRtcp(packet, len, v->srtcpIndex);
  v->srtcpIndex = (v->srtcpIndex + 1) & 0x7fffffff;
  if (out == 0) return;
  if (sendto(v->fd, packet, out, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&v->remote), sizeof v->remote) > 0)
    v->reportsSent.add(1);
}

void onStun(Viewer* v, int fd, const uint8_t* data, size_t len, const sockaddr_in& from) {
  uint8_t reply[128];
  const size_t out = scale::stunBindingSuccess(data, len, from, reinterpret_cast<const uint8_t*>(v->icePassword),
                                               v->icePasswordLength, reply, sizeof reply);
  if (out == 0) return v->stunOther.add(1);
  v->stunRequests.add(1);
  sendto(fd, reply, out, MSG_DONTWAIT, reinterpret_cast<const sockaddr*>(&from), sizeof from);
}

void drain(Socket* socket, uint8_t (*buffers)[kMaxPacket], mmsghdr* messages, iovec* iovs, sockaddr_in* addrs) {
  Viewer* v = socket->viewer;
  for (;;) {
    for (int i = 0; i < kBatch; i++) {
      iovs[i] = {buffers[i], kMaxPacket};
      messages[i].msg_hdr = {};
      messages[i].msg_hdr.msg_iov = &iovs[i];
      messages[i].msg_hdr.msg_iovlen = 1;
      messages[i].msg_hdr.msg_name = &addrs[i];
      messages[i].msg_hdr.msg_namelen = sizeof addrs[i];
    }
    const int n = recvmmsg(socket->fd, messages, kBatch, MSG_DONTWAIT, nullptr);
    receiver->readCalls.add(1);
    if (n <= 0) return;
    receiver->batches.add(1);
    for (int i = 0; i < n; i++) {
      uint8_t* data = buffers[i];
      const size_t len = messages[i].msg_len;
      if (len < 4) continue;
      // RFC 7983 demultiplexing by the first byte; RFC 5761 for RTP against RTCP.
      if (data[0] < 4) {
        onStun(v, socket->fd, data, len, addrs[i]);
      } else if (data[0] >= 128 && data[0] < 192) {
        if (data[1] >= 192 && data[1] <= 223) v->rtcpIn.add(1);
        else onRtp(v, data, len, socket->fd, addrs[i]);
      } else {
        v->other.add(1);
      }
    }
    if (n < kBatch) return;
  }
}

void run() {
  static uint8_t buffers[kBatch][kMaxPacket];
  static mmsghdr messages[kBatch];
  static iovec iovs[kBatch];
  static sockaddr_in addrs[kBatch];
  epoll_event events[256];
  clockid_t cpuClock;
  pthread_getcpuclockid(pthread_self(), &cpuClock);
  while (receiver->running.load(std::memory_order_relaxed)) {
    const int n = epoll_wait(receiver->epoll, events, 256, 20);
    for (int i = 0; i < n; i++) drain(static_cast<Socket*>(events[i].data.ptr), buffers, messages, iovs, addrs);
    const uint64_t now = nowNs();
    const int count = receiver->count.load(std::memory_order_acquire);
    for (int i = 0; i < count; i++) {
      Viewer* v = receiver->viewers[i];
      if (now < v->nextReportNs || !v->active.load(std::memory_order_relaxed)) continue;
      // Every second, ±10 %, as a browser's RTCP interval for a small session (RFC 3550 §6.3.1).
      v->nextReportNs = now + 900000000ull + (uint64_t(v->rtcpSsrc) % 200000000ull);
      sendReport(v);
    }
    timespec cpu;
    clock_gettime(cpuClock, &cpu);
    receiver->threadCpuNs.store(int64_t(cpu.tv_sec) * 1000000000 + cpu.tv_nsec, std::memory_order_relaxed);
  }
}

// ---- N-API: add({ fd, fds, host, port, icePassword, rtcpSsrc, rtpIn, rtcpOut, streams }) → index,
// stats() → Float64Array, close(), and the pure parts for the unit tests.

napi_value number(napi_env env, double value) {
  napi_value result;
  napi_create_double(env, value, &result);
  return result;
}

bool bytesOf(napi_env env, napi_value value, uint8_t** data, size_t* length) {
  bool is = false;
  napi_is_buffer(env, value, &is);
  if (!is) return false;
  return napi_get_buffer_info(env, value, reinterpret_cast<void**>(data), length) == napi_ok;
}

napi_value property(napi_env env, napi_value object, const char* name) {
  napi_value value = nullptr;
  napi_get_named_property(env, object, name, &value);
  return value;
}

double numberOf(napi_env env, napi_value value) {
  double result = 0;
  napi_get_value_double(env, value, &result);
  return result;
}

// { profile, key, salt, authKey? } → SrtpKeys; `rtcp` picks which role the keys play.
bool keysOf(napi_env env, napi_value object, SrtpKeys& keys) {
  uint8_t *key, *salt, *auth = nullptr;
  size_t keyLength, saltLength, authLength = 0;
  if (!bytesOf(env, property(env, object, "key"), &key, &keyLength)) return false;
  if (!bytesOf(env, property(env, object, "salt"), &salt, &saltLength)) return false;
  bytesOf(env, property(env, object, "authKey"), &auth, &authLength);
  return keys.init(int(numberOf(env, property(env, object, "profile"))), key, keyLength, salt, saltLength, auth,
                   authLength);
}

napi_value throwError(napi_env env, const char* message) {
  napi_throw_error(env, nullptr, message);
  return nullptr;
}

napi_value Add(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value args[1];
  napi_get_cb_info(env, info, &argc, args, nullptr, nullptr);
  if (argc < 1) return throwError(env, "add needs an options object");
  const napi_value o = args[0];
  if (receiver->count.load() >= kMaxViewers) return throwError(env, "too many viewers");
  auto* v = new Viewer();
  char host[64] = {};
  size_t hostLength = 0;
  napi_get_value_string_utf8(env, property(env, o, "host"), host, sizeof host, &hostLength);
  napi_get_value_string_utf8(env, property(env, o, "icePassword"), v->icePassword, sizeof v->icePassword,
                             &v->icePasswordLength);
  v->remote.sin_family = AF_INET;
  v->remote.sin_port = htons(uint16_t(numberOf(env, property(env, o, "port"))));
  if (inet_pton(AF_INET, host, &v->remote.sin_addr) != 1) {
    delete v;
    return throwError(env, "host is not an IPv4 address");
  }
  v->rtcpSsrc = uint32_t(numberOf(env, property(env, o, "rtcpSsrc")));
  v->sampleCountdown = v->rtcpSsrc % kSampleEvery;
  if (!keysOf(env, property(env, o, "rtpIn"), v->rtpIn) || !keysOf(env, property(env, o, "rtcpOut"), v->rtcpOut)) {
    delete v;
    return throwError(env, "bad SRTP keys");
  }
  // What werift already knew of each stream (its ROC), so tags verify after a rollover before the takeover.
  napi_value streams = property(env, o, "streams");
  uint32_t known = 0;
  napi_get_array_length(env, streams, &known);
  for (uint32_t i = 0; i < known && i < kMaxStreams; i++) {
    napi_value entry;
    napi_get_element(env, streams, i, &entry);
    Stream* s = streamFor(v, uint32_t(numberOf(env, property(env, entry, "ssrc"))));
    s->rocBase = uint32_t(numberOf(env, property(env, entry, "roc")));
  }
  napi_value fds = property(env, o, "fds");
  uint32_t fdCount = 0;
  napi_get_array_length(env, fds, &fdCount);
  const int nominated = int(numberOf(env, property(env, o, "fd")));
  for (uint32_t i = 0; i < fdCount && v->socketCount < kMaxSockets; i++) {
    napi_value entry;
    napi_get_element(env, fds, i, &entry);
    const int original = int(numberOf(env, entry));
    const int fd = dup(original);
    if (fd < 0) continue;
    // A megabyte of socket buffer (about a second of 1,000 packets): the generator shares a loaded
    // core, and a scheduling gap must not read as the server's loss. FORCE passes rmem_max as root.
    const int bufferBytes = 1 << 20;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bufferBytes, sizeof bufferBytes) != 0)
      setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufferBytes, sizeof bufferBytes);
    v->sockets[v->socketCount] = {v, fd};
    if (original == nominated) v->fd = fd;
    v->socketCount++;
  }
  if (v->socketCount == 0 || v->fd < 0) {
    for (int i = 0; i < v->socketCount; i++) close(v->sockets[i].fd);
    delete v;
    return throwError(env, "no usable socket (the nominated one among fds)");
  }
  v->nextReportNs = nowNs() + 1000000000ull;
  const int index = receiver->count.load();
  receiver->viewers[index] = v;
  receiver->count.store(index + 1, std::memory_order_release);
  for (int i = 0; i < v->socketCount; i++) {
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.ptr = &v->sockets[i];
    if (epoll_ctl(receiver->epoll, EPOLL_CTL_ADD, v->sockets[i].fd, &event) != 0)
      return throwError(env, "epoll_ctl failed");
  }
  return number(env, index);
}

constexpr int kFields = 13;

napi_value Stats(napi_env env, napi_callback_info) {
  const int count = receiver->count.load(std::memory_order_acquire);
  // Two globals first (thread CPU seconds, recvmmsg calls that returned packets), then per viewer.
  const size_t length = 2 + size_t(count) * kFields;
  napi_value buffer, array;
  double* out;
  napi_create_arraybuffer(env, length * sizeof(double), reinterpret_cast<void**>(&out), &buffer);
  out[0] = double(receiver->threadCpuNs.load()) / 1e9;
  out[1] = receiver->batches.get();
  for (int i = 0; i < count; i++) {
    Viewer* v = receiver->viewers[i];
    double* row = out + 2 + size_t(i) * kFields;
    double expected = 0, received = 0, lost = 0, duplicates = 0;
    const uint32_t n = v->streamCount.load(std::memory_order_acquire);
    for (uint32_t s = 0; s < n; s++) {
      expected += double(v->streams[s].seq.expected());
      received += double(v->streams[s].seq.received());
      lost += double(v->streams[s].seq.lost());
      duplicates += double(v->streams[s].seq.duplicates());
    }
    const double values[kFields] = {v->packets.get(),      v->bytes.get(),        expected,
                                    received,              lost,                  duplicates,
                                    v->authChecked.get(),  v->authFailed.get(),   v->rtcpIn.get(),
                                    v->stunRequests.get(), v->reportsSent.get(),  v->other.get() + v->stunOther.get(),
                                    double(n)};
    memcpy(row, values, sizeof values);
  }
  napi_create_typedarray(env, napi_float64_array, length, buffer, 0, &array);
  return array;
}

napi_value Close(napi_env, napi_callback_info) {
  if (receiver->running.exchange(false) && receiver->thread.joinable()) receiver->thread.join();
  const int count = receiver->count.exchange(0);
  for (int i = 0; i < count; i++) {
    for (int s = 0; s < receiver->viewers[i]->socketCount; s++) close(receiver->viewers[i]->sockets[s].fd);
    delete receiver->viewers[i];
    receiver->viewers[i] = nullptr;
  }
  return nullptr;
}

// drop(index): the viewer has left (its session was deleted): no more reading nor reports.
napi_value Drop(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value args[1];
  napi_get_cb_info(env, info, &argc, args, nullptr, nullptr);
  const int index = argc < 1 ? -1 : int(numberOf(env, args[0]));
  if (index < 0 || index >= receiver->count.load()) return throwError(env, "no such viewer");
  Viewer* v = receiver->viewers[index];
  if (v->active.exchange(false))
    for (int i = 0; i < v->socketCount; i++) epoll_ctl(receiver->epoll, EPOLL_CTL_DEL, v->sockets[i].fd, nullptr);
  return nullptr;
}

napi_value Start(napi_env, napi_callback_info) {
  if (!receiver->running.exchange(true)) receiver->thread = std::thread(run);
  return nullptr;
}

// Unit-test entries: the sequence tracker over a list, and the SRTP/SRTCP/STUN pieces on one packet.
napi_value TrackSequence(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value args[1];
  napi_get_cb_info(env, info, &argc, args, nullptr, nullptr);
  uint32_t n = 0;
  napi_get_array_length(env, args[0], &n);
  SequenceTracker tracker;
  for (uint32_t i = 0; i < n; i++) {
    napi_value entry;
    napi_get_element(env, args[0], i, &entry);
    tracker.update(uint16_t(numberOf(env, entry)));
  }
  napi_value result;
  napi_create_object(env, &result);
  napi_set_named_property(env, result, "expected", number(env, double(tracker.expected())));
  napi_set_named_property(env, result, "received", number(env, double(tracker.received())));
  napi_set_named_property(env, result, "lost", number(env, double(tracker.lost())));
  napi_set_named_property(env, result, "duplicates", number(env, double(tracker.duplicates())));
  napi_set_named_property(env, result, "highest", number(env, double(tracker.highest())));
  return result;
}

// The arguments of the SRTP test entries: (keys, packet, a number).
struct KeyedPacket {
  SrtpKeys keys;
  uint8_t* data = nullptr;
  size_t length = 0;
  uint32_t number = 0;

  bool read(napi_env env, napi_callback_info info) {
    size_t argc = 3;
    napi_value args[3];
    napi_get_cb_info(env, info, &argc, args, nullptr, nullptr);
    if (argc < 3 || !keysOf(env, args[0], keys) || !bytesOf(env, args[1], &data, &length)) return false;
    number = uint32_t(numberOf(env, args[2]));
    return true;
  }
};

// verifyRtp(keys, packet, roc) → boolean
napi_value VerifyRtp(napi_env env, napi_callback_info info) {
  KeyedPacket call;
  if (!call.read(env, info)) return throwError(env, "verifyRtp(keys, packet, roc)");
  napi_value result;
  napi_get_boolean(env, call.keys.verifyRtp(call.data, call.length, call.number), &result);
  return result;
}

// protectRtcp(keys, packet, index) → Buffer
napi_value ProtectRtcp(napi_env env, napi_callback_info info) {
  KeyedPacket call;
  if (!call.read(env, info) || call.length > 1400) return throwError(env, "protectRtcp(keys, packet, index)");
  uint8_t out[1500];
  memcpy(out, call.data, call.length);
  const size_t protectedLength = call.keys.protectRtcp(out, call.length, call.number);
  napi_value result;
  void* copy;
  napi_create_buffer_copy(env, protectedLength, out, &copy, &result);
  return result;
}

// stunReply(request, password, host, port) → Buffer (empty when not a binding request)
napi_value StunReply(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value args[4];
  napi_get_cb_info(env, info, &argc, args, nullptr, nullptr);
  uint8_t *data, *password;
  size_t length, passwordLength;
  char host[64] = {};
  size_t hostLength;
  if (argc < 4 || !bytesOf(env, args[0], &data, &length) || !bytesOf(env, args[1], &password, &passwordLength))
    return throwError(env, "stunReply(request, password, host, port)");
  napi_get_value_string_utf8(env, args[2], host, sizeof host, &hostLength);
  sockaddr_in from{};
  from.sin_family = AF_INET;
  from.sin_port = htons(uint16_t(numberOf(env, args[3])));
  inet_pton(AF_INET, host, &from.sin_addr);
  uint8_t out[128];
  const size_t outLength = scale::stunBindingSuccess(data, length, from, password, passwordLength, out, sizeof out);
  napi_value result;
  void* copy;
  napi_create_buffer_copy(env, outLength, out, &copy, &result);
  return result;
}

napi_value Init(napi_env env, napi_value exports) {
  if (!receiver) {
    receiver = new Receiver();
    receiver->epoll = epoll_create1(EPOLL_CLOEXEC);
  }
  const napi_property_descriptor methods[] = {
      {"add", nullptr, Add, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"drop", nullptr, Drop, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"start", nullptr, Start, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"stats", nullptr, Stats, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"close", nullptr, Close, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"trackSequence", nullptr, TrackSequence, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"verifyRtp", nullptr, VerifyRtp, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"protectRtcp", nullptr, ProtectRtcp, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"stunReply", nullptr, StunReply, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof methods / sizeof methods[0], methods);
  napi_value fields;
  napi_create_uint32(env, kFields, &fields);
  napi_set_named_property(env, exports, "fieldsPerViewer", fields);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
