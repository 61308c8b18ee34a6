#include "core/shared_bytes.h"

#include <cassert>
#include <cstring>
#include <new>

namespace cascade {

struct SharedBytes::Block {
  std::atomic<uint32_t> refs{1};
  size_t capacity = 0;
  uint8_t* bytes() { return reinterpret_cast<uint8_t*>(this + 1); }

  static Block* allocate(size_t capacity) {
    void* memory = ::operator new(sizeof(Block) + capacity);
    auto* block = new (memory) Block();
    block->capacity = capacity;
    return block;
  }
  static void retain(Block* block) {
    if (block) block->refs.fetch_add(1, std::memory_order_relaxed);
  }
  static void release(Block* block) {
    if (block && block->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      block->~Block();
      ::operator delete(block);
    }
  }
};

SharedBytes::SharedBytes(const SharedBytes& other) noexcept
    : block_(other.block_), data_(other.data_), size_(other.size_) {
  Block::retain(block_);
}

SharedBytes::SharedBytes(SharedBytes&& other) noexcept
    : block_(std::exchange(other.block_, nullptr)),
      data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)) {}

SharedBytes& SharedBytes::operator=(const SharedBytes& other) noexcept {
  if (this != &other) {
    Block::retain(other.block_);
    Block::release(block_);
    block_ = other.block_;
    data_ = other.data_;
    size_ = other.size_;
  }
  return *this;
}

SharedBytes& SharedBytes::operator=(SharedBytes&& other) noexcept {
  if (this != &other) {
    Block::release(block_);
    block_ = std::exchange(other.block_, nullptr);
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

SharedBytes::~SharedBytes() { Block::release(block_); }

SharedBytes SharedBytes::copy_of(std::span<const uint8_t> bytes) {
  MutableBytes buffer(bytes.size());
  buffer.append(bytes);
  return std::move(buffer).freeze();
}

SharedBytes SharedBytes::copy_of(std::string_view text) {
  return copy_of(std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
}

SharedBytes SharedBytes::slice(size_t offset, size_t length) const {
  assert(offset + length <= size_);
  Block::retain(block_);
  return SharedBytes(block_, data_ + offset, length);
}

uint32_t SharedBytes::use_count() const {
  return block_ ? block_->refs.load(std::memory_order_relaxed) : 0;
}

MutableBytes::MutableBytes(size_t capacity)
    : block_(SharedBytes::Block::allocate(capacity)),
      data_(block_->bytes()),
      capacity_(capacity) {}

MutableBytes::MutableBytes(MutableBytes&& other) noexcept
    : block_(std::exchange(other.block_, nullptr)),
      data_(std::exchange(other.data_, nullptr)),
      capacity_(std::exchange(other.capacity_, 0)),
      size_(std::exchange(other.size_, 0)) {}

MutableBytes& MutableBytes::operator=(MutableBytes&& other) noexcept {
  if (this != &other) {
    SharedBytes::Block::release(block_);
    block_ = std::exchange(other.block_, nullptr);
    data_ = std::exchange(other.data_, nullptr);
    capacity_ = std::exchange(other.capacity_, 0);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

MutableBytes::~MutableBytes() { SharedBytes::Block::release(block_); }

void MutableBytes::append(std::span<const uint8_t> bytes) {
  assert(size_ + bytes.size() <= capacity_);
  if (!bytes.empty()) std::memcpy(data_ + size_, bytes.data(), bytes.size());
  size_ += bytes.size();
}

SharedBytes MutableBytes::freeze() && {
  SharedBytes out(std::exchange(block_, nullptr), std::exchange(data_, nullptr), size_);
  capacity_ = 0;
  size_ = 0;
  return out;
}

}  // namespace cascade
