// SharedBytes: an immutable, atomically ref-counted byte buffer.
//
// Contract: the bytes never change after construction, so a SharedBytes may be
// read from any thread; copying it costs one atomic increment. Packaged media
// (RTMP chunks, FLV tags, ...) is produced once per stream and format and then
// handed to every viewer as a SharedBytes (ARCHITECTURE.md, "package once").
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <utility>

namespace cascade {

class MutableBytes;

class SharedBytes {
 public:
  SharedBytes() = default;
  SharedBytes(const SharedBytes& other) noexcept;
  SharedBytes(SharedBytes&& other) noexcept;
  SharedBytes& operator=(const SharedBytes& other) noexcept;
  SharedBytes& operator=(SharedBytes&& other) noexcept;
  ~SharedBytes();

  static SharedBytes copy_of(std::span<const uint8_t> bytes);
  static SharedBytes copy_of(std::string_view text);

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::span<const uint8_t> span() const { return {data_, size_}; }
  uint8_t operator[](size_t i) const { return data_[i]; }

  // A view of [offset, offset + length) sharing the same storage.
  // Precondition: offset + length <= size().
  SharedBytes slice(size_t offset, size_t length) const;

  // Number of SharedBytes handles to the storage (for tests and metrics).
  uint32_t use_count() const;

 private:
  friend class MutableBytes;
  struct Block;
  SharedBytes(Block* block, const uint8_t* data, size_t size) noexcept
      : block_(block), data_(data), size_(size) {}

  Block* block_ = nullptr;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// A buffer being filled by one owner; freeze() turns it into SharedBytes
// without copying. Capacity is fixed at allocation.
class MutableBytes {
 public:
  MutableBytes() = default;
  explicit MutableBytes(size_t capacity);
  MutableBytes(MutableBytes&& other) noexcept;
  MutableBytes& operator=(MutableBytes&& other) noexcept;
  MutableBytes(const MutableBytes&) = delete;
  MutableBytes& operator=(const MutableBytes&) = delete;
  ~MutableBytes();

  uint8_t* data() { return data_; }
  size_t capacity() const { return capacity_; }
  size_t size() const { return size_; }
  // Precondition: n <= capacity().
  void resize(size_t n) { size_ = n; }
  void append(std::span<const uint8_t> bytes);

  // Consumes the buffer; the result holds exactly size() bytes.
  SharedBytes freeze() &&;

 private:
  SharedBytes::Block* block_ = nullptr;
  uint8_t* data_ = nullptr;
  size_t capacity_ = 0;
  size_t size_ = 0;
};

}  // namespace cascade
