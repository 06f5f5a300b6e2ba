#pragma once
// FlatBuffers reads scalars in place and needs its buffer aligned (to 8 bytes for our schemas).
// Bytes from a transport may start anywhere: a WebSocket message after its 1-byte channel
// prefix, a slice of a larger datagram. Reading through a misaligned pointer is undefined
// behaviour (UBSan reports it), so every decoder looks at network bytes through this view: the
// bytes themselves when aligned, an aligned copy when not.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

namespace tickwire::schemas {

class AlignedView {
 public:
  explicit AlignedView(std::span<const std::byte> bytes) {
    static constexpr std::uint64_t kEmpty = 0;  // an aligned, non-null start for no bytes
    if (bytes.empty()) {
      data_ = reinterpret_cast<const std::uint8_t*>(&kEmpty);
    } else if (reinterpret_cast<std::uintptr_t>(bytes.data()) % alignof(std::uint64_t) == 0) {
      data_ = reinterpret_cast<const std::uint8_t*>(bytes.data());
    } else if (bytes.size() <= sizeof(inline_copy_)) {
      // Most messages (inputs, snapshots) are small: copied here, without an allocation.
      std::memcpy(inline_copy_, bytes.data(), bytes.size());
      data_ = reinterpret_cast<const std::uint8_t*>(inline_copy_);
    } else {
      copy_.resize((bytes.size() + 7) / 8);
      std::memcpy(copy_.data(), bytes.data(), bytes.size());
      data_ = reinterpret_cast<const std::uint8_t*>(copy_.data());
    }
    size_ = bytes.size();
  }
  AlignedView(const AlignedView&) = delete;
  AlignedView& operator=(const AlignedView&) = delete;

  const std::uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  std::uint64_t inline_copy_[32];    // a misaligned message of up to 256 bytes, copied
  std::vector<std::uint64_t> copy_;  // a larger one
  const std::uint8_t* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace tickwire::schemas
