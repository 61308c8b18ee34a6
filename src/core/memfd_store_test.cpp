#include "core/memfd_store.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <numeric>
#include <vector>

namespace cascade {
namespace {

std::vector<uint8_t> read_slice(const FileSlice& slice) {
  std::vector<uint8_t> out(slice.size());
  EXPECT_EQ(::pread(slice.fd(), out.data(), out.size(), static_cast<off_t>(slice.offset())),
            static_cast<ssize_t>(out.size()));
  return out;
}

std::vector<uint8_t> pattern(size_t size, uint8_t first) {
  std::vector<uint8_t> bytes(size);
  std::iota(bytes.begin(), bytes.end(), first);
  return bytes;
}

// Bytes held by the file (its allocated blocks), not its logical size.
uint64_t allocated_bytes(int fd) {
  struct stat st {};
  EXPECT_EQ(::fstat(fd, &st), 0);
  return static_cast<uint64_t>(st.st_blocks) * 512;
}

TEST(MemfdStore, SlicesReadBackExactlyAndStartOnPages) {
  auto store = MemfdStore::create("test");
  ASSERT_TRUE(store) << store.error().message;
  const auto a = pattern(5000, 1), b = pattern(1, 7), c = pattern(65536, 3);
  auto sa = store.value()->append(a), sb = store.value()->append(b), sc = store.value()->append(c);
  ASSERT_TRUE(sa && sb && sc);
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  EXPECT_EQ(sa->offset(), 0u);
  EXPECT_EQ(sb->offset(), (5000 + page - 1) / page * page);
  EXPECT_EQ(sc->offset() % page, 0u);
  EXPECT_GT(sc->offset(), sb->offset());
  EXPECT_EQ(read_slice(*sa), a);
  EXPECT_EQ(read_slice(*sb), b);
  EXPECT_EQ(read_slice(*sc), c);
}

TEST(MemfdStore, DroppingTheLastHandleGivesThePagesBack) {
  auto store = MemfdStore::create("test");
  ASSERT_TRUE(store);
  auto big = store.value()->append(pattern(1 << 20, 0));
  auto kept = store.value()->append(pattern(3000, 9));
  ASSERT_TRUE(big && kept);
  const int fd = kept->fd();
  const uint64_t before = allocated_bytes(fd);
  EXPECT_GE(before, 1u << 20);
  FileSlice copy = *big;  // a second handle keeps the pages
  big = FileSlice{};
  EXPECT_EQ(allocated_bytes(fd), before);
  copy = FileSlice{};
  EXPECT_LE(allocated_bytes(fd), before - (1u << 20));
  // The neighbour is untouched.
  EXPECT_EQ(read_slice(*kept), pattern(3000, 9));
}

TEST(MemfdStore, SlicesOutliveTheStore) {
  FileSlice slice;
  {
    auto store = MemfdStore::create("test");
    ASSERT_TRUE(store);
    auto appended = store.value()->append(pattern(100, 5));
    ASSERT_TRUE(appended);
    slice = *appended;
  }
  EXPECT_EQ(read_slice(slice), pattern(100, 5));
}

TEST(MemfdStore, EmptyAppendIsAnEmptySlice) {
  auto store = MemfdStore::create("test");
  ASSERT_TRUE(store);
  auto empty = store.value()->append({});
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->size(), 0u);
  auto next = store.value()->append(pattern(10, 0));
  ASSERT_TRUE(next);
  EXPECT_EQ(next->offset(), empty->offset());
}

}  // namespace
}  // namespace cascade
