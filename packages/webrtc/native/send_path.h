// The send path of the native fan-out, apart from N-API so that it reads as what it is: a viewer
// stream (SRTP state, socket, address, counters), a group (the streams one source track goes to,
// with the packets of the frame being queued) and the sendmmsg(2) loop that hands a frame to the
// kernel for every stream of a group. Nothing here allocates per packet. Streams and groups belong
// to the thread that created them; the scratch buffers are per thread.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "srtp.h"

namespace dragon {

constexpr size_t kMaxTag = 16;
constexpr size_t kMaxPacket = 1500;
constexpr size_t kStride = kMaxPacket + kMaxTag;
// Packets a group queues before it must send (a keyframe is rarely more; more just means two sends).
constexpr size_t kMaxBatch = 64;

// What a stream adds to its owner's counters array, from the index it was given (RFC 3550 §6.4.1's
// sender info is the first two): packets handed to the kernel, and packets it would not take in
// time (a full send buffer past the deadline, or a failed destination). Index 3 is the owner's
// (retransmissions it asked for).
enum Counter : size_t { kPackets = 0, kPayloadOctets = 1, kOctets = 2, kDropped = 4 };
constexpr size_t kCounterSpan = 5;

struct Stream {
  Srtp srtp;
  uint32_t ssrc = 0;
  uint8_t payloadType = 0;
  int fd = -1;
  sockaddr_storage addr{};
  socklen_t addrLen = 0;
  bool based = false;
  int64_t rocBase = 0;
  // The viewer's output space (a viewer moved between renditions): a packet of extended sequence
  // number `ext` and timestamp `ts` leaves as ext + seqOffset (the ROC counts from there) and
  // ts + tsOffset. Zero for every viewer that never moved: its packets are the source's.
  int64_t seqOffset = 0;
  uint32_t tsOffset = 0;
  // The owner's counters (see Counter), or null.
  double* counters = nullptr;
};

// How long one frame's sends may still wait for room in a full socket send buffer (see
// kMaxSendWaitNs below).
struct SendBudget {
  // When waiting stops (0: nothing has waited yet).
  int64_t deadline = 0;
  // A socket that still had no room when waiting stopped: the rest of the frame's packets for it
  // are dropped without being protected (-1: none).
  int fullFd = -1;
};

struct Group {
  std::vector<Stream*> streams;
  // Plaintext packets queued by enqueue until flush (allocated on first use).
  std::vector<uint8_t> pending;
  size_t pendingLen[kMaxBatch];
  size_t pendingHeader[kMaxBatch];
  int64_t pendingExt[kMaxBatch];
  size_t pendingCount = 0;
  // Datagrams sent by flushes a full queue forced since the last flush.
  size_t sentEarly = 0;
  // The budget of the frame being queued and sent.
  SendBudget budget;
};

// RFC 3550 §5.1: the length of the packet's header (fixed part, CSRCs, extension), 0 if it is not
// an RTP packet.
size_t rtpHeaderLength(const uint8_t* packet, size_t len);

// Adds `s` to the group; false when it is a member already.
bool groupAdd(Group* g, Stream* s);
// Removes `s`; returns the index it had, or -1 when it was not a member.
long groupRemove(Group* g, Stream* s);

// Where a socket's send buffer is full, the send loop waits for room, but never longer than
// kMaxSendWaitNs after its first wait for one frame: the packets of a frame (from its first enqueue
// to its flush, to every stream of the group) share one deadline, and so do the single sends
// (retransmissions, primers) between two frames. What does not fit by then is dropped for the
// streams it was for and counted (kDropped); the viewer's NACKs and keyframe requests recover it.
// Meanwhile the thread receives nothing: the bound is what keeps one congested uplink from
// stalling every source of the thread.
constexpr int64_t kMaxSendWaitNs = 20'000'000;

// Queues a copy of `packet` for the next flush (a full queue is sent first). False, and nothing
// queued, when it is not RTP or too large.
bool enqueue(Group* g, const uint8_t* packet, size_t len, int64_t ext);
// Sends what was queued to every stream of the group and ends the frame; returns the datagrams
// handed to the kernel since the last flush.
size_t flush(Group* g);

// One packet to one stream (a retransmission, a primer), through the same send loop; 1 if sent.
size_t sendOne(Stream* s, const uint8_t* packet, size_t len, int64_t ext);
// The packet as this stream's SRTP in `out` (kStride bytes), counted as sent; its length, or 0 when
// it cannot be sent to this stream (not RTP, too large, older than the stream's first packet).
size_t protectOne(Stream* s, const uint8_t* packet, size_t len, int64_t ext, uint8_t* out);

}  // namespace dragon
