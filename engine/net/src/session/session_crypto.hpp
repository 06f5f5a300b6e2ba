#pragma once
// The cryptography of one session, apart from any transport: keys derived from the ticket's
// session keys, messages sealed with AEAD under a counter nonce and checked against replays, and a
// short keyed tag over whole datagrams. Pure (no sockets, no clock), so it is unit tested and
// fuzzed on its own. docs/security.md says why each piece is there.

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "tickwire/net/join_ticket.hpp"

struct evp_cipher_ctx_st;  // OpenSSL's EVP_CIPHER_CTX

namespace tickwire::net::session {

// The AEAD a session seals with. The server picks it in the handshake (choose_cipher) and the
// ACCEPT's tag binds the pick to what the client offered; the AEAD key is derived for the cipher
// too, so a pick an attacker altered gives the two ends different keys and no session.
enum class Cipher : std::uint8_t {
  chacha20_poly1305 = 1,  // everywhere; the fallback
  aes256_gcm = 2,         // only where the CPU has AES-NI and PCLMULQDQ: faster there
};

// True if this CPU can seal with AES-256-GCM (libsodium's crypto_aead_aes256gcm_is_available).
bool aes256_gcm_available();
// AES-256-GCM when both ends have it, ChaCha20-Poly1305 otherwise.
Cipher choose_cipher(bool client_has_aes, bool server_has_aes);

// What one direction of a session uses, derived from that direction's 32-byte ticket key with
// libsodium's KDF, so that the AEAD key and the datagram tag key are never the same bytes. The
// tag key does not depend on the cipher (the handshake uses it before the cipher is known).
struct DirectionKeys {
  Cipher cipher = Cipher::chacha20_poly1305;
  std::array<std::uint8_t, 32> aead{};
  std::array<std::uint8_t, 16> tag{};

  static DirectionKeys derive(const std::array<std::uint8_t, 32>& ticket_key,
                              Cipher cipher = Cipher::chacha20_poly1305);
  ~DirectionKeys();
  DirectionKeys() = default;
  DirectionKeys(const DirectionKeys&) = default;
  DirectionKeys& operator=(const DirectionKeys&) = default;
};

// A sealed message: a 3-byte header (the low 23 bits of the sender's 64-bit counter, and a flag
// bit the batch framing uses), the ciphertext, and the AEAD's 16-byte tag. The nonce is the whole
// counter, which the opener rebuilds from the 23 bits around the newest counter it has seen. The
// header, the channel and whether the delivery is reliable are authenticated as associated data,
// so a sealed message cannot be moved to another channel or delivery kind.
inline constexpr std::size_t kSealHeaderBytes = 3;
inline constexpr std::size_t kSealTagBytes = 16;
inline constexpr std::size_t kSealOverhead = kSealHeaderBytes + kSealTagBytes;
inline constexpr unsigned kWireCounterBits = 23;

// The AEAD of one direction, keyed once (AES-256-GCM's key schedule, ChaCha20's key) and given
// only the nonce per message. OpenSSL's, which uses the CPU's wider vector instructions (VAES
// and AVX-512 for AES-GCM, AVX-512 for ChaCha20): on the benchmark VM it seals 1 KiB with
// AES-256-GCM in 0.4 us against libsodium's 0.6, and 16 KiB in 3.0 us against 6.7 (ChaCha20-
// Poly1305: 3.6 against 10.5). But AES-256-GCM messages of up to kShortMessageBytes (a game's
// inputs, snapshots and acknowledgements) go through libsodium, whose call is short: a server
// seals and opens each between much other work, its caches cold, and there libsodium took 0.5 us
// for 64 to 200 bytes against OpenSSL's 1.1 (a scratch program that evicts the caches before each
// call; with warm caches both take 0.2 to 0.3 us). Either opens what the other sealed: the bytes
// on the wire are the standard AEAD's. For ChaCha20-Poly1305 libsodium gained little cold and
// lost warm (0.94 against 0.61 us for 200 bytes), so OpenSSL seals every size.
//
// One thread at a time: OpenSSL's context holds each call's nonce and running tag, so encrypt()
// and decrypt() are const only in what they promise about the key.
class Aead {
 public:
  explicit Aead(const DirectionKeys& keys);
  ~Aead();
  Aead(const Aead& other);
  Aead& operator=(const Aead& other);
  Aead(Aead&& other) noexcept;  // leaves `other` fit only to be destroyed or assigned
  Aead& operator=(Aead&& other) noexcept;
  // Encrypts `text` into `out` (as long; it may be `text` itself) and writes the 16-byte tag.
  void encrypt(std::uint64_t counter, std::span<const std::uint8_t> associated,
               std::span<const std::uint8_t> text, std::uint8_t* out, std::uint8_t* tag) const;
  // In place; false (and `text` unspecified) if the tag does not match.
  bool decrypt(std::uint64_t counter, std::span<const std::uint8_t> associated,
               std::span<std::uint8_t> text, const std::uint8_t* tag) const;
  Cipher cipher() const { return cipher_; }

  static constexpr std::size_t kShortMessageBytes = 512;

 private:
  struct ContextDeleter {
    void operator()(evp_cipher_ctx_st* context) const;
  };
  using Context = std::unique_ptr<evp_cipher_ctx_st, ContextDeleter>;
  static Context keyed_context(Cipher cipher, const std::array<std::uint8_t, 32>& key);
  // Runs one message, through run_short() where it applies and OpenSSL's context otherwise:
  // `out` may be `text` itself. False if the library refused (decrypting: the tag did not match).
  bool run(bool encrypting, std::uint64_t counter, std::span<const std::uint8_t> associated,
           std::span<const std::uint8_t> text, std::uint8_t* out, std::uint8_t* tag) const;
  // The same through libsodium's AES-256-GCM, for a message of up to kShortMessageBytes.
  bool run_short(bool encrypting, std::uint64_t counter, std::span<const std::uint8_t> associated,
                 std::span<const std::uint8_t> text, std::uint8_t* out, std::uint8_t* tag) const;

  Cipher cipher_;
  Context context_;
  struct ShortKey;  // libsodium's AES-256-GCM key schedule
  // Only for AES-256-GCM where libsodium has it; otherwise OpenSSL seals every size.
  std::unique_ptr<ShortKey> short_;
};

class MessageSealer {
 public:
  // `first_counter` is 0 in a session; tests start elsewhere to cross the 23-bit wrap.
  explicit MessageSealer(const DirectionKeys& keys, std::uint64_t first_counter = 0)
      : aead_(keys), next_counter_(first_counter) {}
  // Seals `body` into `out`, which must hold body.size() + kSealOverhead bytes. `out` may start
  // kSealHeaderBytes before `body` (in place). Every call uses the next counter.
  void seal(std::span<const std::uint8_t> body, bool flag, std::uint8_t channel, bool reliable,
            std::span<std::uint8_t> out);
  std::uint64_t messages_sealed() const { return next_counter_; }

 private:
  Aead aead_;
  std::uint64_t next_counter_ = 0;
};

enum class OpenResult : std::uint8_t {
  ok,
  malformed,  // shorter than a sealed message
  forged,     // fails authentication: not sealed with this session's key, or altered
  replayed,   // authentic, but already delivered (or too old to tell)
};

struct Opened {
  OpenResult result = OpenResult::malformed;
  std::span<const std::uint8_t> body;  // the plaintext, in place inside the sealed bytes
  bool flag = false;
};

class MessageOpener {
 public:
  explicit MessageOpener(const DirectionKeys& keys);
  // Opens `sealed` in place. Reliable messages of a channel must arrive in counter order (the
  // transport delivers them so); unreliable ones may arrive in any order within a window of
  // kReplayWindow counters behind the newest unreliable one, each at most once. Bytes that
  // decrypt_in_place() already checked and decrypted are not decrypted again: only the replay
  // checks remain.
  Opened open(std::span<std::uint8_t> sealed, std::uint8_t channel, bool reliable);
  // Checks and decrypts `sealed` in place without moving the replay state, and puts this opener's
  // secret mark where the AEAD tag was, by which open() knows them later. False (`sealed`
  // unspecified) if they are malformed or fail authentication. For the ENet receive path, which
  // must refuse an altered datagram before ENet acknowledges it but must leave the replay checks
  // to the order in which ENet delivers packets.
  bool decrypt_in_place(std::span<std::uint8_t> sealed, std::uint8_t channel, bool reliable) const;

  static constexpr std::uint64_t kReplayWindow = 1024;

 private:
  // The full 64-bit counter nearest to the newest one seen whose low 23 bits are `low`.
  std::uint64_t expand_counter(std::uint32_t low) const;

  Aead aead_;
  // Random, never sent: only decrypt_in_place() puts it into a packet (an authentic sealed packet
  // ends with it by chance with probability 2^-128, and nobody else knows it).
  std::array<std::uint8_t, kSealTagBytes> opened_mark_{};
  std::uint64_t newest_ = 0;                        // newest authentic counter + 1 (0: none yet)
  std::array<std::uint64_t, 256> next_reliable_{};  // per channel: lowest acceptable counter
  std::uint64_t newest_unreliable_ = 0;             // newest unreliable counter + 1 (0: none)
  std::array<std::uint64_t, kReplayWindow / 64> unreliable_seen_{};
};

// A 32-bit tag over a whole datagram (SipHash-2-4 keyed with the direction's tag key, truncated):
// what ENet's checksum field carries, so that its control commands are authenticated too.
std::uint32_t datagram_tag(const std::array<std::uint8_t, 16>& key,
                           std::span<const std::uint8_t> datagram);

// ENet's DISCONNECT carries 32 bits of user data: the reason in the low 8 bits and, above them,
// 24 bits of a keyed hash of the connection's connectID and the reason under the sender's tag key.
// A DISCONNECT must then pass two tags (the datagram's 32 and these 24 bits), so ending a session
// by guessing takes 2^56 tries, not 2^32.
std::uint32_t disconnect_data(const std::array<std::uint8_t, 16>& key, std::uint32_t connect_id,
                              std::uint8_t reason);

// The tags of the most recent datagrams from one peer: a datagram whose tag was seen lately is a
// replay (or a duplicate the network made) and is dropped.
class RecentTags {
 public:
  // True if `tag` was among the last kSize inserted; inserts it otherwise.
  bool seen_or_insert(std::uint32_t tag);
  // True if `tag` was among the last kSize inserted.
  bool seen(std::uint32_t tag) const;
  void insert(std::uint32_t tag);
  static constexpr std::size_t kSize = 256;

 private:
  std::array<std::uint32_t, kSize> tags_{};
  std::size_t next_ = 0;
  std::size_t filled_ = 0;
};

}  // namespace tickwire::net::session
