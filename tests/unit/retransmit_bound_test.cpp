// The bound on ENet's retransmission waits, on an ENet peer's own lists as ENet leaves them after
// a service that timed commands out.

#include "enet/retransmit_bound.hpp"

#include <gtest/gtest.h>

namespace tickwire::net::enet_detail {
namespace {

ENetOutgoingCommand reliable(enet_uint32 sent_time, enet_uint32 wait, enet_uint16 send_attempts) {
  ENetOutgoingCommand command{};
  command.command.header.command =
      static_cast<enet_uint8>(static_cast<unsigned>(ENET_PROTOCOL_COMMAND_SEND_RELIABLE) |
                              static_cast<unsigned>(ENET_PROTOCOL_COMMAND_FLAG_ACKNOWLEDGE));
  command.sentTime = sent_time;
  command.roundTripTimeout = wait;
  command.sendAttempts = send_attempts;
  return command;
}

// A peer with a 50 ms RTT and 5 ms variance: ENet's RTO is 70 ms.
class RetransmitBoundTest : public ::testing::Test {
 protected:
  void SetUp() override {
    enet_list_clear(&peer_.sentReliableCommands);
    enet_list_clear(&peer_.outgoingCommands);
    peer_.roundTripTime = 50;
    peer_.roundTripTimeVariance = 5;
    // In flight: a command ENet has resent twice (its wait doubled twice), one sent once.
    enet_list_insert(enet_list_end(&peer_.sentReliableCommands), &resent_twice_);
    enet_list_insert(enet_list_end(&peer_.sentReliableCommands), &sent_once_);
    // ENet took nextTimeout from the first command's doubled wait.
    peer_.nextTimeout = 1000 + 280;
    // Queued: a resend the window held back (sent once, wait doubled), then a command never sent.
    enet_list_insert(enet_list_end(&peer_.outgoingCommands), &queued_resend_);
    enet_list_insert(enet_list_end(&peer_.outgoingCommands), &never_sent_);
  }

  ENetPeer peer_{};
  ENetOutgoingCommand resent_twice_ = reliable(1000, 280, 3);
  ENetOutgoingCommand sent_once_ = reliable(1010, 70, 1);
  ENetOutgoingCommand queued_resend_ = reliable(990, 140, 1);
  ENetOutgoingCommand never_sent_ = reliable(0, 0, 0);
};

TEST_F(RetransmitBoundTest, resends_wait_one_rto_each_and_enet_looks_at_its_timers_in_time) {
  EXPECT_EQ(apply_retransmit_bound(peer_, {4, 1000}), 2u);
  EXPECT_EQ(resent_twice_.roundTripTimeout, 70u);
  EXPECT_EQ(queued_resend_.roundTripTimeout, 70u);
  EXPECT_EQ(sent_once_.roundTripTimeout, 70u);
  // ENet computes the first wait itself when it sends the command.
  EXPECT_EQ(never_sent_.roundTripTimeout, 0u);
  EXPECT_EQ(peer_.nextTimeout, 1000u + 70u);
}

TEST_F(RetransmitBoundTest, enet_doubling_resumes_after_the_resends_without_backoff) {
  EXPECT_EQ(apply_retransmit_bound(peer_, {2, 1000}), 1u);
  EXPECT_EQ(resent_twice_.roundTripTimeout, 280u);  // waits for its third resend: doubling
  EXPECT_EQ(queued_resend_.roundTripTimeout, 70u);  // waits for its first
  // The command sent once is now due first.
  EXPECT_EQ(peer_.nextTimeout, 1010u + 70u);
}

TEST_F(RetransmitBoundTest, the_fixed_cap_applies_when_the_rtt_estimate_is_large) {
  peer_.roundTripTime = 500;  // ENet's estimate before its first acknowledgement
  peer_.roundTripTimeVariance = 100;
  EXPECT_EQ(apply_retransmit_bound(peer_, {4, 100}), 2u);
  EXPECT_EQ(resent_twice_.roundTripTimeout, 100u);
  EXPECT_EQ(queued_resend_.roundTripTimeout, 100u);
  EXPECT_EQ(sent_once_.roundTripTimeout, 70u);
  EXPECT_EQ(peer_.nextTimeout, 1010u + 70u);
}

TEST_F(RetransmitBoundTest, both_off_leaves_enet_doubling_alone) {
  const RetransmitBound off{0, 0};
  EXPECT_FALSE(off.active());
  EXPECT_EQ(apply_retransmit_bound(peer_, off), 0u);
  EXPECT_EQ(resent_twice_.roundTripTimeout, 280u);
  EXPECT_EQ(peer_.nextTimeout, 1000u + 280u);
}

}  // namespace
}  // namespace tickwire::net::enet_detail
