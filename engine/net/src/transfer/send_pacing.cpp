// The pacing of one outgoing transfer: BBR's estimate of the path (highest recent delivery rate
// times lowest recent round trip) from the transfer's own chunks and acknowledgements.

#include "transfer/send_pacing.hpp"

#include <algorithm>
#include <limits>

namespace tickwire::net::transfer_detail {
namespace {

// Unacknowledged bytes per estimated path's worth: a quarter more than the path holds (BBR's gain
// when it probes for bandwidth). (Twice the path, BBR's congestion window, measured worse on
// loopback: two or three chunks in flight where one or two keep the path as busy, and a gameplay
// message behind all of them.)
constexpr double kGain = 1.25;
// Chunks sent before the first round trip is measured.
constexpr std::uint64_t kStartChunks = 4;
// How long the lowest round trip stands before it is measured again.
constexpr std::uint64_t kMinRttLifetimeUs = 10'000'000;
// How long the highest delivery rate stands, at least, and in round trips: a bunch of late
// acknowledgements or a retransmission must not make it drop at once.
constexpr std::uint64_t kMinRateLifetimeUs = 100'000;
constexpr std::uint64_t kRateLifetimeRtts = 10;

}  // namespace

void SendPacing::restart() {
  *this = SendPacing{};
}

void SendPacing::on_sent(std::uint64_t start_offset, std::uint64_t end_offset,
                         std::uint64_t acknowledged, std::uint64_t now_us) {
  sent_.push_back(Sent{end_offset, acknowledged, now_us, last_acknowledged_at_us_.value_or(now_us),
                       start_offset == acknowledged});
}

bool SendPacing::min_rtt_stale(std::uint64_t now_us) const {
  return have_rtt_ && now_us - min_rtt_at_us_ > kMinRttLifetimeUs;
}

void SendPacing::on_acknowledged(std::uint64_t acknowledged, std::uint64_t now_us) {
  last_acknowledged_at_us_ = now_us;
  while (!sent_.empty() && sent_.front().end_offset <= acknowledged) {
    const Sent sent = sent_.front();
    sent_.pop_front();
    const std::uint64_t rtt = now_us - sent.sent_at_us;
    last_rtt_us_ = rtt;
    if (!have_rtt_ || rtt <= min_rtt_us_ || (min_rtt_stale(now_us) && sent.alone)) {
      have_rtt_ = true;
      min_rtt_us_ = rtt;
      min_rtt_at_us_ = now_us;
    }
    const std::uint64_t elapsed = now_us - std::min(sent.sent_at_us, sent.acknowledged_at_us);
    if (elapsed == 0) continue;  // a clock that did not move (tests): no rate to take
    const double rate = static_cast<double>(acknowledged - sent.acknowledged_at_send) /
                        static_cast<double>(elapsed);
    const std::uint64_t rate_lifetime =
        std::max(kMinRateLifetimeUs, kRateLifetimeRtts * min_rtt_us_);
    if (rate >= max_rate_ || now_us - max_rate_at_us_ > rate_lifetime) {
      max_rate_ = rate;
      max_rate_at_us_ = now_us;
    }
  }
}

std::uint64_t SendPacing::allowance(std::uint32_t chunk_size, std::uint64_t now_us,
                                    bool unbounded) const {
  // The transport's window and the transfer's window_chunks alone decide.
  if (unbounded) return std::numeric_limits<std::uint64_t>::max();
  if (!have_rtt_) return kStartChunks * chunk_size;
  // One chunk alone, until its acknowledgement has measured the round trip again.
  if (min_rtt_stale(now_us)) return chunk_size;
  const double path_bytes = max_rate_ * static_cast<double>(min_rtt_us_);
  double allowance = kGain * path_bytes;
  // While the last chunk came back as fast as any (no queue of ours on the path yet), one more
  // chunk than the path holds: a quarter more is less than a chunk below four chunks.
  if (4 * last_rtt_us_ <= 5 * min_rtt_us_) allowance = std::max(allowance, path_bytes + chunk_size);
  return std::max<std::uint64_t>(chunk_size, static_cast<std::uint64_t>(allowance));
}

bool OtherTraffic::present(std::uint64_t messages, std::uint64_t now_us) {
  // A connection's counts start again when a client reconnects (use_transport): never below ours.
  const std::uint64_t others = messages > own_messages_ ? messages - own_messages_ : 0;
  if (others != others_seen_ || (!others_at_us_ && others != 0)) {
    others_seen_ = others;
    others_at_us_ = now_us;
  }
  return others_at_us_ && now_us - *others_at_us_ < kQuietUs;
}

}  // namespace tickwire::net::transfer_detail
