#pragma once
// Builds ENet 1.3 datagrams byte by byte, big-endian, as ENet puts them on the wire: for the
// inspector's unit tests and for tests that forge traffic at a live server.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tickwire::test {

class DatagramBuilder {
 public:
  // `peer` is the header's peer field: the target slot, and ENet's session id in bits 12-13.
  // `checksum`: the 4-byte checksum field after the header that every Tickwire host has (its
  // tag), written as `seed`; a test that sends the datagram puts the tag there (checksum_at()).
  explicit DatagramBuilder(std::uint16_t peer, bool sent_time = true, bool checksum = true,
                           std::uint32_t seed = 0) {
    u16(static_cast<std::uint16_t>(peer | (sent_time ? 0x8000 : 0)));
    if (sent_time) u16(1234);
    if (checksum) {
      checksum_at_ = bytes_.size();
      // ENet writes its seed in host order, as the sender's memcpy leaves it.
      const auto* raw = reinterpret_cast<const std::uint8_t*>(&seed);
      bytes_.insert(bytes_.end(), raw, raw + 4);
    }
  }
  // CONNECT as ENet's client sends it (acknowledge flag, ENet's default throttle).
  DatagramBuilder& connect(std::uint32_t channels, std::uint32_t data,
                           std::uint32_t connect_id = 42) {
    command(2 | 0x80, 0xFF, 1);
    u16(0);              // outgoing peer id
    u8(0xFF), u8(0xFF);  // session ids: any
    u32(1400);           // mtu
    u32(32768);          // window
    u32(channels);
    u32(0), u32(0);             // bandwidths
    u32(5000), u32(2), u32(2);  // throttle interval, acceleration, deceleration
    u32(connect_id);
    u32(data);
    return *this;
  }
  // SEND_RELIABLE announcing `length` bytes and carrying `actual` of them.
  DatagramBuilder& reliable(std::uint8_t channel, std::uint16_t length, std::size_t actual,
                            std::uint16_t sequence = 1) {
    command(6 | 0x80, channel, sequence);
    u16(length);
    payload(actual);
    return *this;
  }
  DatagramBuilder& unreliable(std::uint8_t channel, std::uint16_t reliable_sequence,
                              std::uint16_t sequence, std::uint16_t length) {
    command(7, channel, reliable_sequence);
    u16(sequence), u16(length);
    payload(length);
    return *this;
  }
  // SEND_FRAGMENT with every field as given; its reliable number is `start` + `number`, as ENet
  // numbers the fragments of a reliable message.
  DatagramBuilder& fragment(std::uint8_t channel, std::uint32_t count, std::uint32_t number,
                            std::uint32_t total, std::uint32_t offset, std::uint16_t length,
                            std::uint16_t start = 1) {
    command(8 | 0x80, channel, static_cast<std::uint16_t>(start + number));
    u16(start), u16(length), u32(count), u32(number), u32(total), u32(offset);
    payload(length);
    return *this;
  }
  // SEND_UNRELIABLE_FRAGMENT with every field as given.
  DatagramBuilder& unreliable_fragment(std::uint8_t channel, std::uint16_t reliable_sequence,
                                       std::uint16_t start, std::uint32_t count,
                                       std::uint32_t number, std::uint32_t total,
                                       std::uint32_t offset, std::uint16_t length) {
    command(12, channel, reliable_sequence);
    u16(start), u16(length), u32(count), u32(number), u32(total), u32(offset);
    payload(length);
    return *this;
  }
  // Fragment `number` of a reliable message of `total` bytes exactly as ENet's sender cuts it
  // with `payload` bytes per fragment.
  DatagramBuilder& fragment_of(std::uint8_t channel, std::uint16_t start, std::uint32_t total,
                               std::uint32_t number, std::uint32_t payload) {
    const std::uint32_t count = (total + payload - 1) / payload;
    const std::uint32_t offset = number * payload;
    const auto length = static_cast<std::uint16_t>(number + 1 == count ? total - offset : payload);
    return fragment(channel, count, number, total, offset, length, start);
  }
  DatagramBuilder& acknowledge(std::uint16_t sequence, std::uint16_t sent_time) {
    command(1, 0xFF, 0);
    u16(sequence), u16(sent_time);
    return *this;
  }
  // DISCONNECT with its user data (Tickwire: the reason, and in encrypted sessions its tag).
  DatagramBuilder& disconnect(std::uint32_t data, std::uint16_t sequence = 3) {
    command(4 | 0x80, 0xFF, sequence);
    u32(data);
    return *this;
  }
  DatagramBuilder& ping(std::uint16_t sequence = 2) {
    command(5 | 0x80, 0xFF, sequence);
    return *this;
  }
  DatagramBuilder& raw(std::uint8_t byte) {
    u8(byte);
    return *this;
  }
  std::vector<std::uint8_t> bytes() const { return bytes_; }
  std::size_t size() const { return bytes_.size(); }
  // Where the checksum field starts (the header's length).
  std::size_t checksum_at() const { return checksum_at_; }

 private:
  void command(std::uint8_t command, std::uint8_t channel, std::uint16_t sequence) {
    u8(command), u8(channel), u16(sequence);
  }
  void payload(std::size_t size) { bytes_.insert(bytes_.end(), size, 0xAB); }
  void u8(std::uint8_t v) { bytes_.push_back(v); }
  void u16(std::uint16_t v) {
    u8(static_cast<std::uint8_t>(v >> 8)), u8(static_cast<std::uint8_t>(v));
  }
  void u32(std::uint32_t v) {
    u16(static_cast<std::uint16_t>(v >> 16)), u16(static_cast<std::uint16_t>(v));
  }
  std::vector<std::uint8_t> bytes_;
  std::size_t checksum_at_ = 0;
};

}  // namespace tickwire::test
