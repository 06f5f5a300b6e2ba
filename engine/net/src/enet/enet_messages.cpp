// Messages on their way through ENet: batched per peer and channel on send, sealed (encrypted
// sessions) or framed (plaintext ones) into one ENet packet per batch, and opened and split again
// on receive.

#include <cstring>

#include "enet/enet_endpoint.hpp"
#include "enet/enet_internal.hpp"

namespace tickwire::net::enet_detail {

SendResult EnetEndpoint::queue_message(std::size_t slot_index, enet_uint8 channel,
                                       Delivery delivery, std::span<const std::byte> bytes) {
  OpenBatch& batch = slots_[slot_index].batches[channel];
  // One batch holds one delivery kind: a change of kind closes it, so the order the game sent in
  // is the order ENet gets.
  if (batch.messages > 0 && batch.delivery != delivery) seal_batch(slot_index, channel);
  const std::size_t framed = OpenBatch::framed_size(bytes.size());
  if (framed > batch_limit_) {
    // Too large to share a datagram: it goes alone, sealed straight from the game's bytes.
    seal_batch(slot_index, channel);
    const auto* data = reinterpret_cast<const std::uint8_t*>(bytes.data());
    return hand_to_enet(slot_index, channel, delivery, {data, bytes.size()}, false)
               ? SendResult::ok
               : SendResult::failed;
  }
  if (batch.framed.size() + framed > batch_limit_) seal_batch(slot_index, channel);
  batch.delivery = delivery;
  batch.append(bytes);
  PeerSlot& slot = slots_[slot_index];
  if (!slot.in_open_batch_slots) {
    slot.in_open_batch_slots = true;
    open_batch_slots_.push_back(static_cast<std::uint32_t>(slot_index));
  }
  return SendResult::ok;
}

void EnetEndpoint::seal_batch(std::size_t slot_index, enet_uint8 channel) {
  OpenBatch& batch = slots_[slot_index].batches[channel];
  if (batch.messages == 0) return;
  // The messages were counted as sent when queued; a failure here is an allocation failure and
  // loses them like a full socket would.
  (void)hand_to_enet(slot_index, channel, batch.delivery, batch.body(), batch.several());
  batch.clear();
}

void EnetEndpoint::seal_all_batches() {
  // Only the slots that batched something since the last call can hold an open batch. One not
  // connected yet keeps its batches (and its place in the list) until it is.
  std::size_t kept = 0;
  for (const std::uint32_t i : open_batch_slots_) {
    PeerSlot& slot = slots_[i];
    if (!slot.connected) {
      open_batch_slots_[kept++] = i;
      continue;
    }
    slot.in_open_batch_slots = false;
    for (std::size_t channel = 0; channel < slot.batches.size(); ++channel)
      seal_batch(i, static_cast<enet_uint8>(channel));
  }
  open_batch_slots_.resize(kept);
}

bool EnetEndpoint::hand_to_enet(std::size_t slot_index, enet_uint8 channel, Delivery delivery,
                                std::span<const std::uint8_t> body, bool several) {
  PeerSlot& slot = slots_[slot_index];
  SessionCrypto* crypto =
      slot.session != nullptr && slot.session->crypto ? &*slot.session->crypto : nullptr;
  const std::size_t size =
      body.size() + (crypto != nullptr ? session::kSealOverhead : kPlainHeaderBytes);
  ENetPacket* packet = enet_packet_create(nullptr, size, packet_flags(delivery));
  if (packet == nullptr) return false;
  if (crypto != nullptr) {
    crypto->sealer.seal(body, several, channel, delivery == Delivery::reliable_ordered,
                        {packet->data, size});
  } else {
    packet->data[0] = several ? kSeveral : 0;
    std::memcpy(packet->data + kPlainHeaderBytes, body.data(), body.size());
  }
  packet->userData = &slot;
  packet->freeCallback = &EnetEndpoint::on_packet_released;
  ++slot.queued_messages;
  slot.queued_bytes += packet->dataLength;
  if (enet_peer_send(&host_->peers[slot_index], channel, packet) < 0) {
    enet_packet_destroy(packet);  // releases it from the queue counts again
    return false;
  }
  return true;
}

EnetEndpoint::Opening EnetEndpoint::open_packet(PeerSlot& slot, ENetPacket* packet,
                                                std::uint8_t channel,
                                                std::vector<std::span<const std::byte>>& messages) {
  messages.clear();
  const std::span<std::uint8_t> data(packet->data, packet->dataLength);
  std::span<const std::uint8_t> body;
  bool several = false;
  Session* session = slot.session;
  if (session != nullptr && session->crypto) {
    const bool reliable = (packet->flags & ENET_PACKET_FLAG_RELIABLE) != 0;
    const session::Opened opened = session->crypto->opener.open(data, channel, reliable);
    switch (opened.result) {
      case session::OpenResult::ok:
        body = opened.body;
        several = opened.flag;
        break;
      case session::OpenResult::replayed:
        ++counters_.dropped_replayed;
        return Opening::replayed;
      case session::OpenResult::forged:
        ++counters_.dropped_forged;
        return Opening::bad;
      case session::OpenResult::malformed:
        ++counters_.dropped_malformed;
        return Opening::bad;
    }
  } else {
    if (encrypted_ || data.empty() || data[0] > kSeveral) {
      ++counters_.dropped_malformed;
      return Opening::bad;
    }
    body = data.subspan(kPlainHeaderBytes);
    several = data[0] == kSeveral;
  }
  if (!split_batch(body, several, messages)) {
    ++counters_.dropped_malformed;
    return Opening::bad;
  }
  return Opening::ok;
}

}  // namespace tickwire::net::enet_detail
