// The success response to a STUN binding request (RFC 5389 §7.3, RFC 8445 §7.3): what a browser
// answers to the server's RFC 7675 consent checks. XOR-MAPPED-ADDRESS of the request's source,
// MESSAGE-INTEGRITY with our ICE password (short-term credential), FINGERPRINT.
#pragma once

#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#include <cstddef>
#include <cstdint>

namespace scale {

constexpr uint32_t kMagicCookie = 0x2112A442;

inline uint32_t stunCrc32(const uint8_t* data, size_t len) {
  uint32_t crc = 0xffffffff;
  for (size_t i = 0; i < len; i++) {
    crc ^= data[i];
    for (int bit = 0; bit < 8; bit++) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
  }
  return ~crc;
}

// Writes the response into `out`; returns its length, 0 when `data` is not a binding request.
inline size_t stunBindingSuccess(const uint8_t* data, size_t len, const sockaddr_in& from, const uint8_t* password,
                                 size_t passwordLength, uint8_t* out, size_t capacity) {
  if (len < 20 || capacity < 20 + 12 + 24 + 8) return 0;
  const uint16_t type = uint16_t((data[0] << 8) | data[1]);
  const size_t length = (size_t(data[2]) << 8) | data[3];
  const uint32_t cookie = (uint32_t(data[4]) << 24) | (uint32_t(data[5]) << 16) | (uint32_t(data[6]) << 8) | data[7];
  if (type != 0x0001 || cookie != kMagicCookie || length + 20 != len) return 0;
  out[0] = 0x01;
  out[1] = 0x01;
  memcpy(out + 4, data + 4, 16);  // cookie and transaction id
  size_t at = 20;
  // XOR-MAPPED-ADDRESS (RFC 5389 §15.2): IPv4, port and address XORed with the cookie.
  const uint16_t port = ntohs(from.sin_port) ^ uint16_t(kMagicCookie >> 16);
  const uint32_t address = ntohl(from.sin_addr.s_addr) ^ kMagicCookie;
  const uint8_t mapped[12] = {0x00, 0x20, 0x00, 0x08, 0x00, 0x01, uint8_t(port >> 8), uint8_t(port),
                              uint8_t(address >> 24), uint8_t(address >> 16), uint8_t(address >> 8), uint8_t(address)};
  memcpy(out + at, mapped, sizeof mapped);
  at += sizeof mapped;
  // MESSAGE-INTEGRITY (§15.4): HMAC-SHA1 over the message so far, its length counting this attribute.
  const size_t withIntegrity = at - 20 + 24;
  out[2] = uint8_t(withIntegrity >> 8);
  out[3] = uint8_t(withIntegrity);
  unsigned int digestLength = 0;
  out[at] = 0x00;
  out[at + 1] = 0x08;
  out[at + 2] = 0x00;
  out[at + 3] = 20;
  HMAC(EVP_sha1(), password, int(passwordLength), out, at, out + at + 4, &digestLength);
  at += 24;
  // FINGERPRINT (§15.5): CRC-32 of the message so far XOR 0x5354554e, its length counting this attribute.
  const size_t withFingerprint = at - 20 + 8;
  out[2] = uint8_t(withFingerprint >> 8);
  out[3] = uint8_t(withFingerprint);
  const uint32_t crc = stunCrc32(out, at) ^ 0x5354554e;
  const uint8_t fingerprint[8] = {0x80, 0x28, 0x00, 0x04, uint8_t(crc >> 24), uint8_t(crc >> 16), uint8_t(crc >> 8),
                                  uint8_t(crc)};
  memcpy(out + at, fingerprint, 8);
  return at + 8;
}

}  // namespace scale
