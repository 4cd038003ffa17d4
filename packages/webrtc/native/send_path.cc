// Turns the plaintext RTP packets of a frame into every viewer's SRTP and hands them to the kernel:
// sendmmsg(2) per socket, each viewer's run of equal-sized packets as one UDP GSO datagram. Kept
// apart from the N-API glue (dragon_fanout.cc) so that the per-packet code is one room with no
// JavaScript in it.
#include "send_path.h"

#include <errno.h>
#include <netinet/udp.h>
#include <poll.h>
#include <string.h>
#include <time.h>

#include <algorithm>

namespace dragon {
namespace {

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
// EAGAIN. A frame's flush then waits for room for up to kMaxSendWaitNs in all (send_path.h), before
// losing the rest as a congested link would. Measured through a 1 Gbit/s `tbf` queue: 50 viewers ×
// 30-packet keyframes, 79 % of the copies were lost without the wait.

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
// The budget of the single sends since this thread's last frame flush.
thread_local SendBudget singleBudget;

int64_t monotonicNs() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return int64_t(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

// After EAGAIN: waits until the socket can take more or the budget's deadline (set on the first
// wait of a frame) passes. True when it is worth sending again.
bool waitForRoom(int fd, SendBudget* budget) {
  const int64_t now = monotonicNs();
  if (budget->deadline == 0) budget->deadline = now + kMaxSendWaitNs;
  if (now >= budget->deadline) return false;
  pollfd p{fd, POLLOUT, 0};
  const int ms = int((budget->deadline - now + 999'999) / 1'000'000);
  return poll(&p, 1, ms) > 0 && (p.revents & POLLOUT) != 0;
}

// Copies the packet into `out` as this stream's: its SSRC and payload type, then protects it.
// Sequence number and timestamp are moved into the stream's output space (Stream::seqOffset).
// Returns 0 when the packet cannot be sent to this stream (older than its first packet, malformed).
size_t prepare(Stream* s, const uint8_t* packet, size_t len, size_t headerLen, int64_t ext, uint8_t* out) {
  const int64_t outExt = ext + s->seqOffset;
  if (outExt < 0) return 0;
  if (!s->based) {
    s->based = true;
    s->rocBase = outExt >> 16;
  }
  const int64_t roc = (outExt >> 16) - s->rocBase;
  if (roc < 0 || roc > 0xffffffffLL) return 0;
  memcpy(out, packet, len);
  out[1] = uint8_t((packet[1] & 0x80) | s->payloadType);
  out[8] = uint8_t(s->ssrc >> 24);
  out[9] = uint8_t(s->ssrc >> 16);
  out[10] = uint8_t(s->ssrc >> 8);
  out[11] = uint8_t(s->ssrc);
  if (s->seqOffset != 0 || s->tsOffset != 0) {
    out[2] = uint8_t(outExt >> 8);
    out[3] = uint8_t(outExt);
    const uint32_t ts = ((uint32_t(packet[4]) << 24) | (uint32_t(packet[5]) << 16) | (uint32_t(packet[6]) << 8) |
                         uint32_t(packet[7])) +
                        s->tsOffset;
    out[4] = uint8_t(ts >> 24);
    out[5] = uint8_t(ts >> 16);
    out[6] = uint8_t(ts >> 8);
    out[7] = uint8_t(ts);
  }
  return s->srtp.protect(out, len, headerLen, s->ssrc, uint16_t(outExt), uint32_t(roc));
}

void count(Stream* s, size_t len, size_t payloadLen) {
  if (!s->counters) return;
  s->counters[kPackets] += 1;
  s->counters[kPayloadOctets] += double(payloadLen);
  s->counters[kOctets] += double(len);
}

void countDropped(Stream* s, size_t packets) {
  if (s->counters) s->counters[kDropped] += double(packets);
}

bool gsoRefused(int error) {
  return error == EIO || error == EINVAL || error == EOPNOTSUPP || error == ENOPROTOOPT;
}

// Sends `batch` (messages[i] ↔ batch[i]) with one sendmmsg(2) per run of messages on one socket and
// counts every packet sent or dropped; `lens` and `headers` are the plaintext sizes of the packets
// the messages' `first`/`count` index. A full socket buffer is waited out until the budget's
// deadline (waitForRoom), then drops the rest for that socket; a failed destination loses its
// message only; a refused GSO datagram is sent again segment by segment.
size_t flushBatch(size_t n, const size_t* lens, const size_t* headers, SendBudget* budget) {
  size_t sent = 0;
  size_t start = 0;
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
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && waitForRoom(fd, budget)) continue;
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
        budget->fullFd = fd;
        for (; start < end; start++) countDropped(batch[start].stream, batch[start].count);
        break;
      }
      mmsghdr& failed = messages[start];
      const Message& m = batch[start];
      if (failed.msg_hdr.msg_controllen > 0 && gsoRefused(errno)) {
        gsoUsable = false;
        msghdr single = failed.msg_hdr;
        single.msg_control = nullptr;
        single.msg_controllen = 0;
        single.msg_iovlen = 1;
        for (size_t i = 0; i < m.count; i++) {
          single.msg_iov = failed.msg_hdr.msg_iov + i;
          if (sendmsg(fd, &single, MSG_DONTWAIT) >= 0) {
            count(m.stream, lens[m.first + i], lens[m.first + i] - headers[m.first + i]);
            sent++;
          } else {
            countDropped(m.stream, 1);
          }
        }
      } else {
        countDropped(m.stream, m.count);
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
size_t flushQueued(Group* g) {
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
    if (s->fd == g->budget.fullFd) {
      countDropped(s, k);
      continue;
    }
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
      sent += flushBatch(n, g->pendingLen, g->pendingHeader, &g->budget);
      slots = 0;
      n = 0;
    }
  }
  return sent + flushBatch(n, g->pendingLen, g->pendingHeader, &g->budget);
}

}  // namespace

size_t rtpHeaderLength(const uint8_t* p, size_t len) {
  if (len < 12 || (p[0] >> 6) != 2) return 0;
  size_t h = 12 + size_t(p[0] & 0x0f) * 4;
  if (p[0] & 0x10) {
    if (len < h + 4) return 0;
    h += 4 + size_t((p[h + 2] << 8) | p[h + 3]) * 4;
  }
  return h <= len ? h : 0;
}

bool groupAdd(Group* g, Stream* s) {
  if (std::find(g->streams.begin(), g->streams.end(), s) != g->streams.end()) return false;
  g->streams.push_back(s);
  return true;
}

long groupRemove(Group* g, Stream* s) {
  const auto it = std::find(g->streams.begin(), g->streams.end(), s);
  if (it == g->streams.end()) return -1;
  const long index = long(it - g->streams.begin());
  g->streams.erase(it);
  return index;
}

bool enqueue(Group* g, const uint8_t* packet, size_t len, int64_t ext) {
  const size_t headerLen = rtpHeaderLength(packet, len);
  if (headerLen == 0 || len > kMaxPacket) return false;
  if (g->pendingCount == kMaxBatch) g->sentEarly += flushQueued(g);
  if (g->pending.empty()) g->pending.resize(kMaxBatch * kMaxPacket);
  const size_t i = g->pendingCount++;
  memcpy(g->pending.data() + i * kMaxPacket, packet, len);
  g->pendingLen[i] = len;
  g->pendingHeader[i] = headerLen;
  g->pendingExt[i] = ext;
  return true;
}

size_t flush(Group* g) {
  const size_t sent = g->sentEarly + flushQueued(g);
  g->sentEarly = 0;
  g->budget = SendBudget{};
  singleBudget = SendBudget{};
  return sent;
}

size_t sendOne(Stream* s, const uint8_t* packet, size_t len, int64_t ext) {
  const size_t headerLen = rtpHeaderLength(packet, len);
  if (s->fd < 0 || headerLen == 0 || len > kMaxPacket) return 0;
  if (s->fd == singleBudget.fullFd) {
    countDropped(s, 1);
    return 0;
  }
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
  return flushBatch(1, &len, &headerLen, &singleBudget);
}

size_t protectOne(Stream* s, const uint8_t* packet, size_t len, int64_t ext, uint8_t* out) {
  const size_t headerLen = rtpHeaderLength(packet, len);
  if (headerLen == 0 || len > kMaxPacket) return 0;
  const size_t outLen = prepare(s, packet, len, headerLen, ext, out);
  if (outLen == 0) return 0;
  count(s, len, len - headerLen);
  return outLen;
}

}  // namespace dragon
