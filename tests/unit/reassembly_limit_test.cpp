#include "enet/reassembly_limit.hpp"

#include <gtest/gtest.h>

#include <array>
#include <deque>

#include "../support/enet_datagrams.hpp"

namespace tickwire::net::enet_detail {
namespace {

using test::DatagramBuilder;

constexpr std::uint32_t kPayload = 1368;  // at the default MTU, 1400, with the checksum field
constexpr std::uint32_t kTotal = 3000;    // three fragments

// An ENet peer with three channels and hand-queued incoming commands, as ENet's receiver leaves
// them between datagrams.
class QueuedPeer {
 public:
  QueuedPeer() {
    for (ENetChannel& channel : channels_) {
      enet_list_clear(&channel.incomingReliableCommands);
      enet_list_clear(&channel.incomingUnreliableCommands);
    }
    peer_.channels = channels_.data();
    peer_.channelCount = channels_.size();
  }
  // A reliable message starting at `start` on `channel`, still missing `remaining` fragments.
  void queue_reliable(std::uint8_t channel, std::uint16_t start, std::uint32_t remaining) {
    ENetIncomingCommand& command = commands_.emplace_back();
    command.reliableSequenceNumber = start;
    command.fragmentsRemaining = remaining;
    enet_list_insert(enet_list_end(&channels_[channel].incomingReliableCommands), &command);
  }
  void queue_unreliable(std::uint8_t channel, std::uint16_t reliable, std::uint16_t start,
                        std::uint32_t remaining) {
    ENetIncomingCommand& command = commands_.emplace_back();
    command.reliableSequenceNumber = reliable;
    command.unreliableSequenceNumber = start;
    command.fragmentsRemaining = remaining;
    enet_list_insert(enet_list_end(&channels_[channel].incomingUnreliableCommands), &command);
  }
  ENetChannel& channel(std::uint8_t index) { return channels_[index]; }
  const ENetPeer& peer() const { return peer_; }

 private:
  std::array<ENetChannel, 3> channels_{};
  std::deque<ENetIncomingCommand> commands_;  // stable addresses for ENet's intrusive lists
  ENetPeer peer_{};
};

std::vector<std::uint8_t> reliable_fragment(std::uint8_t channel, std::uint16_t start,
                                            std::uint32_t number) {
  return DatagramBuilder(5).fragment_of(channel, start, kTotal, number, kPayload).bytes();
}

std::vector<std::uint8_t> unreliable_fragment(std::uint8_t channel, std::uint16_t reliable,
                                              std::uint16_t start, std::uint32_t number) {
  const std::uint32_t offset = number * kPayload;
  const auto length = static_cast<std::uint16_t>(std::min(kPayload, kTotal - offset));
  return DatagramBuilder(5)
      .unreliable_fragment(channel, reliable, start, 3, number, kTotal, offset, length)
      .bytes();
}

TEST(ReassemblyLimit, incomplete_messages_are_counted_across_channels_and_kinds) {
  QueuedPeer queued;
  queued.queue_reliable(0, 1, 2);
  queued.queue_reliable(1, 4, 0);  // complete, waiting for an earlier message
  queued.queue_reliable(1, 7, 1);
  queued.queue_unreliable(2, 0, 3, 1);
  EXPECT_EQ(incomplete_messages(queued.peer()), 3u);
}

TEST(ReassemblyLimit, fragment_of_a_new_reliable_message_starts_one_and_of_a_queued_one_does_not) {
  QueuedPeer queued;
  queued.queue_reliable(1, 10, 2);
  EXPECT_EQ(messages_started(queued.peer(), reliable_fragment(1, 10, 1), true), 0u);
  EXPECT_EQ(messages_started(queued.peer(), reliable_fragment(1, 20, 1), true), 1u);
  EXPECT_EQ(messages_started(queued.peer(), reliable_fragment(2, 10, 1), true), 1u)
      << "the same number on another channel is another message";
}

TEST(ReassemblyLimit, fragment_enet_ignores_starts_nothing) {
  QueuedPeer queued;
  queued.channel(1).incomingReliableSequenceNumber = 100;
  EXPECT_EQ(messages_started(queued.peer(), reliable_fragment(1, 100, 0), true), 0u)
      << "delivered already";
  EXPECT_EQ(messages_started(queued.peer(), reliable_fragment(1, 50, 0), true), 0u) << "behind";
  EXPECT_EQ(messages_started(queued.peer(), reliable_fragment(1, 40'000, 0), true), 0u)
      << "beyond ENet's receive window";
  EXPECT_EQ(messages_started(queued.peer(), reliable_fragment(1, 101, 0), true), 1u);
}

TEST(ReassemblyLimit, unreliable_fragments_are_matched_by_both_sequence_numbers) {
  QueuedPeer queued;
  queued.queue_unreliable(1, 0, 5, 2);
  EXPECT_EQ(messages_started(queued.peer(), unreliable_fragment(1, 0, 5, 1), true), 0u);
  EXPECT_EQ(messages_started(queued.peer(), unreliable_fragment(1, 0, 6, 1), true), 1u);
  queued.channel(1).incomingUnreliableSequenceNumber = 8;
  EXPECT_EQ(messages_started(queued.peer(), unreliable_fragment(1, 0, 7, 0), true), 0u)
      << "older than the last one delivered";
}

TEST(ReassemblyLimit, at_the_limit_only_new_messages_are_over_it) {
  QueuedPeer queued;
  queued.queue_reliable(1, 10, 2);
  queued.queue_reliable(2, 10, 2);
  // The missing fragments of messages being reassembled always get through, or a peer at the
  // limit could never finish one.
  EXPECT_FALSE(starts_messages_over_limit(queued.peer(), reliable_fragment(1, 10, 2), true, 2));
  EXPECT_TRUE(starts_messages_over_limit(queued.peer(), reliable_fragment(1, 20, 2), true, 2));
  EXPECT_FALSE(starts_messages_over_limit(queued.peer(), reliable_fragment(1, 20, 2), true, 3));
  EXPECT_FALSE(starts_messages_over_limit(
      queued.peer(), DatagramBuilder(5).reliable(1, 10, 10, 30).ping().bytes(), true, 2))
      << "unfragmented messages are not reassemblies";
}

}  // namespace
}  // namespace tickwire::net::enet_detail
