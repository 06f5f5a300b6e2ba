// Fuzz target for what reads the game port's session bytes before anything trusts them: the
// handshake decoder (and the cookie check behind it), the opener of sealed batches, the batch
// framing, the WebSocket session handshake's decoders, the join ticket verifier that opens the
// sealed session keys, what an encrypted session's datagram tag covers with the AEAD check of the
// packets it carries, and the file transfer messages (schemas/transfer.fbs). The first byte picks
// the decoder; the rest is its input. Fixed keys make the crypto deterministic, so a crash
// reproduces.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "enet/message_batch.hpp"
#include "enet/tag_coverage.hpp"
#include "session/handshake.hpp"
#include "session/session_crypto.hpp"
#include "session/stream_handshake.hpp"
#include "tickwire/net/join_ticket.hpp"
#include "transfer/transfer_codec.hpp"

namespace {

using namespace tickwire::net;

const session::DirectionKeys& keys() {
  static const session::DirectionKeys derived = session::DirectionKeys::derive({});
  return derived;
}

JoinTicketVerifier& verifier() {
  static const JoinTicketIssuer issuer = JoinTicketIssuer::from_secret_key({});
  static const GameServerSealKeys seal = GameServerSealKeys::from_secret_key({1});
  static JoinTicketVerifier instance(issuer.public_key(), "fuzz:1", seal);
  return instance;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::span<const std::uint8_t> input(data + 1, size - 1);
  switch (data[0] % 7) {
    case 0: {
      const auto packet = session::decode_handshake(input);
      if (packet && packet->type == session::HandshakeType::response) {
        // The ticket view lies inside the datagram.
        if (packet->ticket.data() < input.data() ||
            packet->ticket.data() + packet->ticket.size() > input.data() + input.size()) {
          __builtin_trap();
        }
        static const session::CookieJar jar(10'000);
        (void)jar.check(packet->cookie, 0x0100007F, 7777, packet->protocol_id, 0);
      }
      break;
    }
    case 1: {
      // A sealed batch as it arrives; one opener keeps its replay state across inputs.
      static session::MessageOpener opener(keys());
      std::vector<std::uint8_t> sealed(input.begin(), input.end());
      const session::Opened opened = opener.open(sealed, 1, (size & 1) != 0);
      if (opened.result == session::OpenResult::ok) __builtin_trap();  // nobody forges Poly1305
      break;
    }
    case 2: {
      std::vector<std::span<const std::byte>> messages;
      if (enet_detail::split_batch(input, (size & 1) != 0, messages)) {
        std::size_t total = 0;
        for (const auto& message : messages)
          total += message.size();
        if (total > input.size()) __builtin_trap();
      }
      break;
    }
    case 3: {
      // The WebSocket session handshake: a HELLO's ticket view lies inside the message, and a
      // proof or sealed challenge never opens (nobody forges Poly1305).
      namespace stream = session::stream;
      if (const auto hello = stream::decode_hello(input)) {
        if (hello->ticket.data() < input.data() ||
            hello->ticket.data() + hello->ticket.size() > input.data() + input.size()) {
          __builtin_trap();
        }
        session::MessageOpener opener(keys());
        if (hello->proof && stream::opens_to_challenge(opener, *hello->proof, {})) __builtin_trap();
      }
      if (const auto accept = stream::decode_accept(input); accept && accept->sealed_challenge) {
        session::MessageOpener opener(keys());
        if (stream::opens_to_challenge(opener, *accept->sealed_challenge, {})) __builtin_trap();
      }
      (void)stream::decode_challenge(input);
      break;
    }
    case 5: {
      // An ENet datagram of an encrypted session: what its tag covers lies inside it, and no
      // whole packet it carries passes the AEAD check made before ENet reads it.
      std::vector<std::uint8_t> datagram(input.begin(), input.end());
      std::array<std::uint8_t, 4096> buffer{};
      if (datagram.size() > buffer.size()) break;
      const auto covered = enet_detail::covered_by_tag(datagram, buffer);
      if (covered.size() > datagram.size()) __builtin_trap();
      static const session::MessageOpener opener(keys());
      enet_detail::CommandWalker walker(datagram, true);
      enet_detail::WireCommand command;
      while (walker.next(command)) {
        if (command.offset + command.header_size + command.data_length > datagram.size()) {
          __builtin_trap();
        }
        if (!enet_detail::carries_whole_packet(command.command)) continue;
        const std::span<std::uint8_t> sealed(datagram.data() + command.offset + command.header_size,
                                             command.data_length);
        if (opener.decrypt_in_place(sealed, command.channel, true)) __builtin_trap();
      }
      break;
    }
    case 4:
      (void)verifier().verify(std::as_bytes(input), unix_time_ms());
      break;
    default: {
      // A transfer message (misaligned here, as after a batch's framing): a chunk's data lies
      // inside the (aligned) message, text fields stay in bounds.
      namespace transfer = tickwire::net::transfer_detail;
      std::optional<tickwire::schemas::AlignedView> view;
      const auto message = transfer::decode(std::as_bytes(input), view);
      if (!message) break;
      if (const auto* chunk = std::get_if<transfer::Chunk>(&*message)) {
        const auto* start = reinterpret_cast<const std::byte*>(view->data());
        if (chunk->data.data() < start ||
            chunk->data.data() + chunk->data.size() > start + view->size()) {
          __builtin_trap();
        }
        (void)transfer::check_of(chunk->data);
      }
      if (const auto* offer = std::get_if<transfer::Offer>(&*message)) {
        if (offer->name.size() > transfer::kMaxNameBytes ||
            offer->kind.size() > transfer::kMaxKindBytes) {
          __builtin_trap();
        }
      }
      break;
    }
  }
  return 0;
}
