#pragma once
// The bytes of one received message. Move-only and zero-copy: a payload keeps the transport's own
// receive buffer alive until it is dropped, so receiving costs no extra allocation or copy.

#include <cstddef>
#include <span>
#include <utility>

namespace tickwire::net {

class Payload {
 public:
  using ReleaseFn = void (*)(void* owner);

  Payload() = default;
  // Wraps bytes owned by `owner`; `release(owner)` runs once when the payload is dropped.
  Payload(const std::byte* data, std::size_t size, ReleaseFn release, void* owner)
      : data_(data), size_(size), release_(release), owner_(owner) {}
  // A payload that owns a heap copy of `bytes`.
  static Payload copy_of(std::span<const std::byte> bytes);

  Payload(Payload&& other) noexcept { *this = std::move(other); }
  Payload& operator=(Payload&& other) noexcept {
    if (this != &other) {
      reset();
      data_ = std::exchange(other.data_, nullptr);
      size_ = std::exchange(other.size_, 0);
      release_ = std::exchange(other.release_, nullptr);
      owner_ = std::exchange(other.owner_, nullptr);
    }
    return *this;
  }
  Payload(const Payload&) = delete;
  Payload& operator=(const Payload&) = delete;
  ~Payload() { reset(); }

  std::span<const std::byte> bytes() const { return {data_, size_}; }
  const std::byte* data() const { return data_; }
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  void reset() {
    if (release_ != nullptr) release_(owner_);
    data_ = nullptr;
    size_ = 0;
    release_ = nullptr;
    owner_ = nullptr;
  }

 private:
  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
  ReleaseFn release_ = nullptr;
  void* owner_ = nullptr;
};

}  // namespace tickwire::net
