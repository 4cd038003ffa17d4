// What the load generator does with SRTP: verify the tag of a received RTP packet (RFC 3711 §4.2
// HMAC-SHA1-80 over header, encrypted payload and ROC; RFC 7714 §8 AES-GCM, which authenticates by
// decrypting) and protect an outgoing RTCP packet (RFC 3711 §3.4, RFC 7714 §9). The cipher is keyed
// per call: a sampled packet in 64 and a report a second do not need more.
#pragma once

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#include <cstddef>
#include <cstdint>

namespace scale {

constexpr int kAesCm128HmacSha1_80 = 1;  // RFC 5764 §4.1.2
constexpr int kAeadAes128Gcm = 7;        // RFC 7714 §14.2

inline void put32(uint8_t* at, uint32_t value) {
  at[0] = uint8_t(value >> 24);
  at[1] = uint8_t(value >> 16);
  at[2] = uint8_t(value >> 8);
  at[3] = uint8_t(value);
}

inline uint32_t get32(const uint8_t* at) {
  return (uint32_t(at[0]) << 24) | (uint32_t(at[1]) << 16) | (uint32_t(at[2]) << 8) | at[3];
}

// The RTP header's length (RFC 3550 §5.1, §5.3.1), 0 when it does not fit in `len`.
inline size_t rtpHeaderLength(const uint8_t* data, size_t len) {
  if (len < 12) return 0;
  size_t header = 12 + 4 * size_t(data[0] & 0x0f);
  if (data[0] & 0x10) {
    if (len < header + 4) return 0;
    header += 4 + 4 * ((size_t(data[header + 2]) << 8) | data[header + 3]);
  }
  return header <= len ? header : 0;
}

struct SrtpKeys {
  int profile = 0;
  uint8_t key[16] = {};
  uint8_t salt[14] = {};
  uint8_t auth[20] = {};
  EVP_CIPHER_CTX* ctx = nullptr;

  SrtpKeys() = default;
  SrtpKeys(const SrtpKeys&) = delete;
  SrtpKeys& operator=(const SrtpKeys&) = delete;
  ~SrtpKeys() {
    if (ctx) EVP_CIPHER_CTX_free(ctx);
  }

  bool init(int p, const uint8_t* k, size_t keyLen, const uint8_t* s, size_t saltLen, const uint8_t* a,
            size_t authLen) {
    if (keyLen != 16) return false;
    if (p == kAeadAes128Gcm && saltLen < 12) return false;
    if (p == kAesCm128HmacSha1_80 && (saltLen != 14 || authLen != 20)) return false;
    if (p != kAeadAes128Gcm && p != kAesCm128HmacSha1_80) return false;
    profile = p;
    memcpy(key, k, 16);
    memcpy(salt, s, saltLen < 14 ? saltLen : 14);
    if (a && authLen == 20) memcpy(auth, a, 20);
    ctx = EVP_CIPHER_CTX_new();
    return ctx != nullptr;
  }

  size_t tagLength() const { return profile == kAeadAes128Gcm ? 16 : 10; }

  // Whether `data` (an SRTP packet, tag included) carries the tag its keys give for `roc`.
  bool verifyRtp(const uint8_t* data, size_t len, uint32_t roc) {
    const size_t tag = tagLength();
    if (len < tag) return false;
    const size_t body = len - tag;
    const size_t header = rtpHeaderLength(data, body);
    if (header == 0 || body > 2048) return false;
    const uint32_t ssrc = get32(data + 8);
    const uint16_t seq = uint16_t((data[2] << 8) | data[3]);
    if (profile == kAeadAes128Gcm) {
      // RFC 7714 §8.1: IV = (0x0000 || SSRC || ROC || SEQ) XOR salt.
      uint8_t iv[12] = {0, 0};
      put32(iv + 2, ssrc);
      put32(iv + 6, roc);
      iv[10] = uint8_t(seq >> 8);
      iv[11] = uint8_t(seq);
      for (int i = 0; i < 12; i++) iv[i] ^= salt[i];
      uint8_t plain[2048];
      int outl = 0;
      if (EVP_DecryptInit_ex(ctx, EVP_aes_128_gcm(), nullptr, key, iv) != 1) return false;
      if (EVP_DecryptUpdate(ctx, nullptr, &outl, data, int(header)) != 1) return false;
      if (body > header && EVP_DecryptUpdate(ctx, plain, &outl, data + header, int(body - header)) != 1) return false;
      if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, const_cast<uint8_t*>(data + body)) != 1) return false;
      return EVP_DecryptFinal_ex(ctx, plain, &outl) == 1;
    }
    uint8_t authenticated[2048 + 4];
    memcpy(authenticated, data, body);
    put32(authenticated + body, roc);
    uint8_t digest[20];
    unsigned int digestLength = 0;
    HMAC(EVP_sha1(), auth, 20, authenticated, body + 4, digest, &digestLength);
    return CRYPTO_memcmp(digest, data + body, 10) == 0;
  }

  // Protects the RTCP packet in `buf` (room for 20 more bytes) in place as SRTCP with `index`;
  // returns the SRTCP length, 0 on failure.
  size_t protectRtcp(uint8_t* buf, size_t len, uint32_t index) {
    if (len < 8) return 0;
    const uint32_t ssrc = get32(buf + 4);
    const uint32_t eIndex = 0x80000000u | (index & 0x7fffffff);
    int outl = 0;
    if (profile == kAeadAes128Gcm) {
      // RFC 7714 §9.1: IV = (0x0000 || SSRC || 0x0000 || 0 || SRTCP index) XOR salt; AAD = the
      // first 8 bytes and E || index, which follow the tag.
      uint8_t iv[12] = {0, 0};
      put32(iv + 2, ssrc);
      iv[6] = iv[7] = 0;
      put32(iv + 8, index & 0x7fffffff);
      for (int i = 0; i < 12; i++) iv[i] ^= salt[i];
      uint8_t aad[12];
      memcpy(aad, buf, 8);
      put32(aad + 8, eIndex);
      if (EVP_EncryptInit_ex(ctx, EVP_aes_128_gcm(), nullptr, key, iv) != 1) return 0;
      if (EVP_EncryptUpdate(ctx, nullptr, &outl, aad, 12) != 1) return 0;
      if (EVP_EncryptUpdate(ctx, buf + 8, &outl, buf + 8, int(len - 8)) != 1) return 0;
      if (EVP_EncryptFinal_ex(ctx, buf + len, &outl) != 1) return 0;
      if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, buf + len) != 1) return 0;
      put32(buf + len + 16, eIndex);
      return len + 20;
    }
    // RFC 3711 §4.1.1 with the SRTCP index in place of ROC || SEQ; §3.4: E || index, then the tag
    // over everything before it.
    uint8_t ctr[16] = {};
    put32(ctr + 4, ssrc);
    put32(ctr + 10, index & 0x7fffffff);
    for (int i = 0; i < 14; i++) ctr[i] ^= salt[i];
    if (EVP_EncryptInit_ex(ctx, EVP_aes_128_ctr(), nullptr, key, ctr) != 1) return 0;
    if (EVP_EncryptUpdate(ctx, buf + 8, &outl, buf + 8, int(len - 8)) != 1) return 0;
    put32(buf + len, eIndex);
    uint8_t digest[20];
    unsigned int digestLength = 0;
    HMAC(EVP_sha1(), auth, 20, buf, len + 4, digest, &digestLength);
    memcpy(buf + len + 4, digest, 10);
    return len + 14;
  }
};

}  // namespace scale
