// Sequence continuity of one RTP stream as RFC 3550 §A.3 keeps it: the extended highest sequence
// number, how many packets were expected since the first and how many came; the difference is loss.
#pragma once

#include <cstdint>

namespace scale {

class SequenceTracker {
 public:
  // Returns the packet's extended sequence number (cycles of 65536 since the first packet).
  uint64_t update(uint16_t seq) {
    if (!started_) {
      started_ = true;
      max_ = seq;
      base_ = seq;
      received_ = 1;
      return seq;
    }
    const uint16_t delta = uint16_t(seq - max_);
    if (delta == 0) {
      duplicates_++;
      return cycles_ + seq;
    }
    if (delta < 0x8000) {
      // In order, possibly after a gap; a smaller number than the highest means it wrapped.
      if (seq < max_) cycles_ += 65536;
      max_ = seq;
      received_++;
      return cycles_ + seq;
    }
    // Late (reordered or retransmitted): it belongs to the cycle before when it is above the highest.
    const uint64_t ext = seq > max_ ? (cycles_ >= 65536 ? cycles_ - 65536 + seq : 0) : cycles_ + seq;
    if (ext < base_ || (seq > max_ && cycles_ < 65536)) {
      before_++;  // older than the first packet seen: outside what is counted
      return ext;
    }
    received_++;
    return ext;
  }

  bool started() const { return started_; }
  uint64_t highest() const { return cycles_ + max_; }
  uint64_t expected() const { return started_ ? highest() - base_ + 1 : 0; }
  uint64_t received() const { return received_; }
  // Negative when late copies (retransmissions of packets that did arrive) outnumber the gaps.
  int64_t lost() const { return int64_t(expected()) - int64_t(received_); }
  uint64_t duplicates() const { return duplicates_; }
  uint64_t beforeFirst() const { return before_; }

 private:
  bool started_ = false;
  uint16_t max_ = 0;
  uint64_t cycles_ = 0;
  uint64_t base_ = 0;
  uint64_t received_ = 0;
  uint64_t duplicates_ = 0;
  uint64_t before_ = 0;
};

}  // namespace scale
