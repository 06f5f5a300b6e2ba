#include "crypto_cost.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <span>
#include <vector>

#include <time.h>

#include "enet/message_batch.hpp"
#include "report.hpp"
#include "session/session_crypto.hpp"
#include "sodium_ready.hpp"

namespace tickwire::bench {
namespace {

namespace session = net::session;

// Batches sealed before they are opened again, sized so that they stay in a 256 KiB cache the
// way a transport's few batches in flight would.
constexpr std::size_t kBlockBytes = 256 * 1024;
constexpr std::size_t kMaxBlockBatches = 256;
// The ENet channel and delivery the transport would seal the benchmark's reliable data with.
constexpr std::uint8_t kChannel = 1;
constexpr bool kReliable = true;
// The datagram the per-datagram steps are timed on: as large as the transport's default MTU
// lets a datagram be, as they are when messages stream.
constexpr std::size_t kDatagramBytes = 1400;
// What the tag covers of a datagram carrying one whole sealed packet (enet/tag_coverage.hpp):
// ENet's header with sent time and the tag field (8), the SEND_RELIABLE command (6), the seal's
// header and its AEAD tag.
constexpr std::size_t kCoveredBytes =
    8 + 6 + net::session::kSealHeaderBytes + net::session::kSealTagBytes;

// Where results of timed calls go, so that the compiler cannot drop the calls.
volatile std::uint64_t g_sink = 0;

double thread_cpu_ns() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) * 1e9 + static_cast<double>(now.tv_nsec);
}

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[(values.size() - 1) / 2];
}

// Fixed key bytes: the cost does not depend on them.
session::DirectionKeys bench_keys(session::Cipher cipher = session::Cipher::chacha20_poly1305) {
  std::array<std::uint8_t, 32> ticket_key{};
  for (std::size_t i = 0; i < ticket_key.size(); ++i)
    ticket_key[i] = static_cast<std::uint8_t>(i * 7 + 1);
  return session::DirectionKeys::derive(ticket_key, cipher);
}

// The body of a batch of `messages` messages of `size` bytes, framed by the transport's own code.
std::vector<std::uint8_t> batch_body(std::size_t size, std::size_t messages) {
  std::vector<std::byte> message(size);
  for (std::size_t i = 0; i < size; ++i)
    message[i] = static_cast<std::byte>(i * 31 + 7);
  net::enet_detail::OpenBatch batch;
  for (std::size_t i = 0; i < messages; ++i)
    batch.append(message);
  const std::span<const std::uint8_t> body = batch.body();
  return {body.begin(), body.end()};
}

SealCost measure_seal(session::Cipher cipher, std::size_t size, std::size_t messages,
                      int repetitions, double seconds_each) {
  SealCost cost;
  cost.cipher = cipher == session::Cipher::aes256_gcm ? "AES-256-GCM" : "ChaCha20-Poly1305";
  cost.message_size = size;
  cost.messages = messages;
  const std::vector<std::uint8_t> body = batch_body(size, messages);
  cost.body_bytes = body.size();
  const std::size_t sealed_bytes = body.size() + session::kSealOverhead;
  const std::size_t block =
      std::clamp<std::size_t>(kBlockBytes / sealed_bytes, 1, kMaxBlockBatches);
  std::vector<std::uint8_t> sealed(block * sealed_bytes);

  const session::DirectionKeys keys = bench_keys(cipher);
  session::MessageSealer sealer(keys);
  session::MessageOpener opener(keys);
  const bool several = messages > 1;
  std::vector<double> seal_ns;
  std::vector<double> open_ns;
  cost.opened = true;
  for (int r = 0; r < repetitions; ++r) {
    double sealing = 0;
    double opening = 0;
    std::size_t batches = 0;
    while (sealing + opening < seconds_each * 1e9) {
      const double start = thread_cpu_ns();
      for (std::size_t b = 0; b < block; ++b)
        sealer.seal(body, several, kChannel, kReliable, {&sealed[b * sealed_bytes], sealed_bytes});
      const double sealed_at = thread_cpu_ns();
      for (std::size_t b = 0; b < block; ++b) {
        const session::Opened opened =
            opener.open({&sealed[b * sealed_bytes], sealed_bytes}, kChannel, kReliable);
        if (opened.result != session::OpenResult::ok || opened.body.size() != body.size())
          cost.opened = false;
      }
      const double opened_at = thread_cpu_ns();
      sealing += sealed_at - start;
      opening += opened_at - sealed_at;
      batches += block;
    }
    seal_ns.push_back(sealing / static_cast<double>(batches));
    open_ns.push_back(opening / static_cast<double>(batches));
  }
  cost.seal_ns = median(seal_ns);
  cost.open_ns = median(open_ns);
  return cost;
}

// CPU time per call of `step(i)`, the median over repetitions.
template <typename Step>
double measure_step(int repetitions, double seconds_each, Step step) {
  constexpr std::size_t kCallsPerReading = 1024;
  std::vector<double> per_call;
  std::uint64_t i = 0;
  for (int r = 0; r < repetitions; ++r) {
    double spent = 0;
    std::size_t calls = 0;
    while (spent < seconds_each * 1e9) {
      const double start = thread_cpu_ns();
      for (std::size_t c = 0; c < kCallsPerReading; ++c)
        step(i++);
      spent += thread_cpu_ns() - start;
      calls += kCallsPerReading;
    }
    per_call.push_back(spent / static_cast<double>(calls));
  }
  return median(per_call);
}

}  // namespace

CryptoCosts measure_crypto_costs(int repetitions, double seconds_each) {
  // libsodium picks its fastest SipHash code for this CPU when initialised (and probes for
  // AES-NI); the transport initialises it too, so this measures what the transport runs.
  net::ensure_sodium();
  CryptoCosts costs;
  costs.repetitions = repetitions;
  // One message per batch at each size the transport benchmark sends, then 64 B messages sharing
  // a batch: 20 of them fill one at the default MTU of 1400 bytes (a batch body of at most 1364).
  const std::pair<std::size_t, std::size_t> cases[] = {
      {64, 1}, {1024, 1}, {16 * 1024, 1}, {64, 2}, {64, 4}, {64, 8}, {64, 16}, {64, 20}};
  // The cipher the transport picks where both ends have AES-NI first, then the fallback.
  std::vector<session::Cipher> ciphers;
  if (session::aes256_gcm_available()) ciphers.push_back(session::Cipher::aes256_gcm);
  ciphers.push_back(session::Cipher::chacha20_poly1305);
  for (const session::Cipher cipher : ciphers) {
    for (const auto& [size, messages] : cases)
      costs.seals.push_back(measure_seal(cipher, size, messages, repetitions, seconds_each));
  }

  const session::DirectionKeys keys = bench_keys();
  std::vector<std::uint8_t> datagram(kDatagramBytes);
  for (std::size_t i = 0; i < datagram.size(); ++i)
    datagram[i] = static_cast<std::uint8_t>(i * 13 + 5);
  std::uint32_t folded = 0;
  const double covered_ns = measure_step(repetitions, seconds_each, [&](std::uint64_t i) {
    datagram[0] = static_cast<std::uint8_t>(i);
    folded ^= session::datagram_tag(keys.tag, {datagram.data(), kCoveredBytes});
  });
  costs.per_datagram.push_back(
      {"tag (SipHash-2-4), one whole sealed packet; each end", kCoveredBytes, covered_ns});
  const double tag_ns = measure_step(repetitions, seconds_each, [&](std::uint64_t i) {
    datagram[0] = static_cast<std::uint8_t>(i);
    folded ^= session::datagram_tag(keys.tag, datagram);
  });
  costs.per_datagram.push_back(
      {"tag (SipHash-2-4), a fragment (covered whole); each end", kDatagramBytes, tag_ns});
  // A fresh tag is compared with every remembered one: the common case, and the slowest.
  session::RecentTags recent;
  std::uint64_t seen = 0;
  const double recent_ns = measure_step(repetitions, seconds_each, [&](std::uint64_t i) {
    seen += recent.seen_or_insert(static_cast<std::uint32_t>(i * 2654435761u)) ? 1 : 0;
  });
  costs.per_datagram.push_back({"replay check of a new tag (RecentTags), receiver", 0, recent_ns});
  g_sink = folded + seen;
  return costs;
}

void print_crypto_costs(const CryptoCosts& costs) {
  std::printf(
      "\nEncryption alone: CPU time of one thread in the session code the transport calls\n"
      "(AES-256-GCM where the CPU has AES-NI: libsodium up to 512 bytes, OpenSSL above;\n"
      "ChaCha20-Poly1305 IETF: OpenSSL; SipHash-2-4: libsodium), median of %d repetition(s).\n"
      "A batch is one ENet packet: the messages a channel got between two polls, framed, sealed\n"
      "once (+%zu bytes) and opened once.\n",
      costs.repetitions, net::session::kSealOverhead);
  constexpr int kWidth = 106;
  const std::string rule(kWidth, '-');
  std::printf("%s\n", rule.c_str());
  std::printf("%-17s %-26s %8s | %9s %9s %14s | %12s\n", "cipher", "batch", "body", "seal ns",
              "open ns", "seal+open ns", "ns / message");
  std::printf("%s\n", rule.c_str());
  for (const SealCost& seal : costs.seals) {
    const std::string what = std::to_string(seal.messages) + " x " + size_label(seal.message_size);
    if (!seal.opened) {
      std::printf("%-17s %-26s %8zu | FAILED: a sealed batch did not open\n", seal.cipher.c_str(),
                  what.c_str(), seal.body_bytes);
      continue;
    }
    const double total = seal.seal_ns + seal.open_ns;
    std::printf("%-17s %-26s %6zu B | %9.0f %9.0f %14.0f | %12.1f\n", seal.cipher.c_str(),
                what.c_str(), seal.body_bytes, seal.seal_ns, seal.open_ns, total,
                total / static_cast<double>(seal.messages));
  }
  std::printf("%s\n", rule.c_str());
  std::printf("%-70s %8s | %9s\n", "per datagram", "bytes", "ns");
  std::printf("%s\n", rule.c_str());
  for (const DatagramCost& step : costs.per_datagram) {
    const std::string bytes = step.bytes > 0 ? std::to_string(step.bytes) : "-";
    std::printf("%-70s %8s | %9.1f\n", step.operation.c_str(), bytes.c_str(), step.ns);
  }
  std::printf("%s\n", rule.c_str());
}

}  // namespace tickwire::bench
