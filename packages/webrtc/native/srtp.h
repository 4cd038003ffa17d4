// SRTP protection of one stream with its key state prepared once (RFC 3711 AES_CM_128_HMAC_SHA1_80,
// RFC 7714 AEAD_AES_128_GCM): an OpenSSL cipher context per stream, re-keyed never and re-IV'd per
// packet, and the HMAC-SHA1 pads absorbed once. Byte-identical to werift's SRTP and to
// src/fanout/srtp.ts (src/fanout/srtp.test.ts).
#pragma once

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <string.h>

#include <cstddef>
#include <cstdint>

namespace dragon {

constexpr int kProfileAesCm128HmacSha1_80 = 1;  // RFC 5764 §4.1.2 SRTP_AES128_CM_HMAC_SHA1_80
constexpr int kProfileAeadAes128Gcm = 7;        // RFC 7714 §14.2 SRTP_AEAD_AES_128_GCM

struct Srtp {
  int profile = 0;
  EVP_CIPHER_CTX* cipher = nullptr;
  uint8_t salt[14] = {};
  // HMAC-SHA1 (RFC 2104) with the inner and outer pads absorbed once: a packet costs two copies of
  // a SHA_CTX instead of a new HMAC object.
  SHA_CTX inner{};
  SHA_CTX outer{};

  ~Srtp() {
    if (cipher) EVP_CIPHER_CTX_free(cipher);
  }

  bool init(int p, const uint8_t* key, size_t keyLen, const uint8_t* s, size_t saltLen, const uint8_t* auth,
            size_t authLen) {
    profile = p;
    if (keyLen != 16) return false;
    cipher = EVP_CIPHER_CTX_new();
    if (!cipher) return false;
    if (p == kProfileAeadAes128Gcm) {
      // werift derives 14 bytes of session salt for either profile; GCM's IV uses the first 96 bits.
      if (saltLen < 12) return false;
      memcpy(salt, s, 12);
      if (EVP_EncryptInit_ex(cipher, EVP_aes_128_gcm(), nullptr, nullptr, nullptr) != 1) return false;
      if (EVP_CIPHER_CTX_ctrl(cipher, EVP_CTRL_GCM_SET_IVLEN, 12, nullptr) != 1) return false;
      return EVP_EncryptInit_ex(cipher, nullptr, nullptr, key, nullptr) == 1;
    }
    if (p == kProfileAesCm128HmacSha1_80) {
      if (saltLen != 14 || authLen != 20) return false;
      memcpy(salt, s, 14);
      if (EVP_EncryptInit_ex(cipher, EVP_aes_128_ctr(), nullptr, key, nullptr) != 1) return false;
      uint8_t pad[64];
      memset(pad, 0, sizeof pad);
      memcpy(pad, auth, authLen);
      for (uint8_t& b : pad) b ^= 0x36;
      SHA1_Init(&inner);
      SHA1_Update(&inner, pad, 64);
      for (uint8_t& b : pad) b ^= 0x36 ^ 0x5c;
      SHA1_Init(&outer);
      SHA1_Update(&outer, pad, 64);
      return true;
    }
    return false;
  }

  size_t tagLength() const { return profile == kProfileAeadAes128Gcm ? 16 : 10; }

  // `out` holds the plaintext packet (header already rewritten); the payload is encrypted in place
  // and the tag appended. Returns the SRTP length, 0 on failure.
  size_t protect(uint8_t* out, size_t len, size_t headerLen, uint32_t ssrc, uint16_t seq, uint32_t roc) {
    int outl = 0;
    const size_t payloadLen = len - headerLen;
    if (profile == kProfileAeadAes128Gcm) {
      // RFC 7714 §8.1: IV = (0x0000 || SSRC || ROC || SEQ) XOR salt.
      uint8_t iv[12] = {0,
                        0,
                        uint8_t(ssrc >> 24),
                        uint8_t(ssrc >> 16),
                        uint8_t(ssrc >> 8),
                        uint8_t(ssrc),
                        uint8_t(roc >> 24),
                        uint8_t(roc >> 16),
                        uint8_t(roc >> 8),
                        uint8_t(roc),
                        uint8_t(seq >> 8),
                        uint8_t(seq)};
      for (int i = 0; i < 12; i++) iv[i] ^= salt[i];
      if (EVP_EncryptInit_ex(cipher, nullptr, nullptr, nullptr, iv) != 1) return 0;
      if (EVP_EncryptUpdate(cipher, nullptr, &outl, out, int(headerLen)) != 1) return 0;  // AAD
      if (payloadLen > 0 && EVP_EncryptUpdate(cipher, out + headerLen, &outl, out + headerLen, int(payloadLen)) != 1)
        return 0;
      if (EVP_EncryptFinal_ex(cipher, out + len, &outl) != 1) return 0;
      if (EVP_CIPHER_CTX_ctrl(cipher, EVP_CTRL_GCM_GET_TAG, 16, out + len) != 1) return 0;
      return len + 16;
    }
    // RFC 3711 §4.1.1: IV = (salt << 16) XOR (SSRC << 64) XOR (index << 16), index = ROC || SEQ.
    uint8_t ctr[16] = {0,
                       0,
                       0,
                       0,
                       uint8_t(ssrc >> 24),
                       uint8_t(ssrc >> 16),
                       uint8_t(ssrc >> 8),
                       uint8_t(ssrc),
                       uint8_t(roc >> 24),
                       uint8_t(roc >> 16),
                       uint8_t(roc >> 8),
                       uint8_t(roc),
                       uint8_t(seq >> 8),
                       uint8_t(seq),
                       0,
                       0};
    for (int i = 0; i < 14; i++) ctr[i] ^= salt[i];
    if (EVP_EncryptInit_ex(cipher, nullptr, nullptr, nullptr, ctr) != 1) return 0;
    if (payloadLen > 0 && EVP_EncryptUpdate(cipher, out + headerLen, &outl, out + headerLen, int(payloadLen)) != 1)
      return 0;
    // RFC 3711 §4.2: the tag authenticates header, encrypted payload and ROC; 80 bits are sent.
    const uint8_t rocBytes[4] = {uint8_t(roc >> 24), uint8_t(roc >> 16), uint8_t(roc >> 8), uint8_t(roc)};
    uint8_t digest[SHA_DIGEST_LENGTH];
    SHA_CTX ctx = inner;
    SHA1_Update(&ctx, out, len);
    SHA1_Update(&ctx, rocBytes, 4);
    SHA1_Final(digest, &ctx);
    ctx = outer;
    SHA1_Update(&ctx, digest, SHA_DIGEST_LENGTH);
    SHA1_Final(digest, &ctx);
    memcpy(out + len, digest, 10);
    return len + 10;
  }
};

}  // namespace dragon
