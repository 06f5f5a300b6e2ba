// LAN beacons as bytes: a BeaconBody FlatBuffer, and the server's Ed25519 signature over it
// (libsodium), wrapped in a SignedBeacon.

#include "discovery/beacon_codec.hpp"

#include <arpa/inet.h>
#include <flatbuffers/flatbuffers.h>
#include <sodium.h>

#include <algorithm>
#include <cstring>

#include <tickwire/schemas/discovery_generated.h>
#include <tickwire/schemas/aligned_view.hpp>

namespace tickwire::net::discovery_detail {
namespace {

// Signatures cover this prefix and the body, so that a beacon signature can never be taken for a
// signature of anything else made with the same key (a key reused for tickets, say).
constexpr char kSignatureContext[] = "tickwire lan beacon v1";  // its NUL is part of the prefix

std::vector<std::uint8_t> signed_message(const std::uint8_t* body, std::size_t size) {
  std::vector<std::uint8_t> message(sizeof kSignatureContext + size);
  std::memcpy(message.data(), kSignatureContext, sizeof kSignatureContext);
  std::memcpy(message.data() + sizeof kSignatureContext, body, size);
  return message;
}

bool ipv4_or_empty(const flatbuffers::String* host) {
  if (host == nullptr || host->size() == 0) return true;
  if (host->size() >= INET_ADDRSTRLEN) return false;
  in_addr address{};
  return inet_pton(AF_INET, host->str().c_str(), &address) == 1;
}

}  // namespace

bool printable_name(const std::string& name) {
  return name.size() <= kMaxNameBytes && std::none_of(name.begin(), name.end(), [](char c) {
           const auto byte = static_cast<unsigned char>(c);
           return byte < 0x20 || byte == 0x7f;
         });
}

std::vector<std::byte> encode_beacon(const BeaconFields& fields, const ServerIdentity* identity) {
  flatbuffers::FlatBufferBuilder body_builder(256);
  const ServerAnnouncement& a = fields.announcement;
  const auto name = body_builder.CreateString(a.name);
  const auto host = body_builder.CreateString(fields.host);
  flatbuffers::Offset<flatbuffers::Vector<std::uint8_t>> key;
  if (identity != nullptr) {
    key = body_builder.CreateVector(identity->public_key.data(), identity->public_key.size());
  }
  body_builder.Finish(schemas::CreateBeaconBody(body_builder, fields.protocol_id, name, a.players,
                                                a.max_players, a.game_port, a.lobby_port, host, key,
                                                fields.sent_unix_ms, fields.sequence));

  flatbuffers::FlatBufferBuilder builder(512);
  const auto body = builder.CreateVector(body_builder.GetBufferPointer(), body_builder.GetSize());
  flatbuffers::Offset<flatbuffers::Vector<std::uint8_t>> signature;
  if (identity != nullptr) {
    const std::vector<std::uint8_t> message =
        signed_message(body_builder.GetBufferPointer(), body_builder.GetSize());
    std::array<std::uint8_t, crypto_sign_BYTES> bytes{};
    crypto_sign_detached(bytes.data(), nullptr, message.data(), message.size(),
                         identity->secret_key.data());
    signature = builder.CreateVector(bytes.data(), bytes.size());
  }
  builder.Finish(schemas::CreateSignedBeacon(builder, fields.protocol_id, body, signature));
  const auto* data = reinterpret_cast<const std::byte*>(builder.GetBufferPointer());
  return {data, data + builder.GetSize()};
}

std::variant<ReadBeacon, BeaconError> read_beacon(std::span<const std::byte> bytes,
                                                  std::uint32_t protocol_id) {
  if (bytes.size() > kMaxBeaconBytes) return BeaconError::malformed;
  const schemas::AlignedView view(bytes);
  flatbuffers::Verifier outer(view.data(), view.size(), 4, 8);
  if (!schemas::VerifySignedBeaconBuffer(outer)) return BeaconError::malformed;
  const schemas::SignedBeacon* wrapper = schemas::GetSignedBeacon(view.data());
  if (wrapper->protocol_id() != protocol_id) return BeaconError::other_protocol;
  const auto* body = wrapper->body();
  const auto* signature = wrapper->signature();
  if (body == nullptr) return BeaconError::malformed;
  if (signature != nullptr && signature->size() != crypto_sign_BYTES) return BeaconError::malformed;

  // The body is a buffer of its own inside the vector, which need not be 8-byte aligned.
  const schemas::AlignedView body_view(std::as_bytes(std::span(body->data(), body->size())));
  flatbuffers::Verifier inner(body_view.data(), body_view.size(), 4, 16);
  if (!inner.VerifyBuffer<schemas::BeaconBody>(nullptr)) return BeaconError::malformed;
  const auto* fields = flatbuffers::GetRoot<schemas::BeaconBody>(body_view.data());
  // The signed id is the one that counts: the outer copy is only a shortcut.
  if (fields->protocol_id() != protocol_id) return BeaconError::other_protocol;
  const auto* key = fields->public_key();
  const bool is_signed = signature != nullptr;
  if (is_signed != (key != nullptr)) return BeaconError::malformed;
  if (key != nullptr && key->size() != crypto_sign_PUBLICKEYBYTES) return BeaconError::malformed;
  if (fields->game_port() == 0 || !ipv4_or_empty(fields->host())) return BeaconError::malformed;
  std::string name = fields->name() != nullptr ? fields->name()->str() : std::string();
  if (!printable_name(name)) return BeaconError::malformed;

  ReadBeacon beacon;
  beacon.fields.protocol_id = fields->protocol_id();
  beacon.fields.announcement = {std::move(name), fields->players(), fields->max_players(),
                                fields->game_port(), fields->lobby_port()};
  beacon.fields.host = fields->host() != nullptr ? fields->host()->str() : std::string();
  beacon.fields.sent_unix_ms = fields->sent_unix_ms();
  beacon.fields.sequence = fields->sequence();
  beacon.is_signed = is_signed;
  if (is_signed) {
    std::memcpy(beacon.public_key.data(), key->data(), beacon.public_key.size());
    std::memcpy(beacon.signature.data(), signature->data(), beacon.signature.size());
    beacon.body.assign(body->data(), body->data() + body->size());
  }
  return beacon;
}

bool signature_valid(const ReadBeacon& beacon) {
  if (!beacon.is_signed) return false;
  const std::vector<std::uint8_t> message = signed_message(beacon.body.data(), beacon.body.size());
  return crypto_sign_verify_detached(beacon.signature.data(), message.data(), message.size(),
                                     beacon.public_key.data()) == 0;
}

}  // namespace tickwire::net::discovery_detail
