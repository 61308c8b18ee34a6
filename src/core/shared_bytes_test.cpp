#include "core/shared_bytes.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace cascade {
namespace {

TEST(SharedBytes, CopyOfHoldsTheBytes) {
  auto b = SharedBytes::copy_of("hello");
  ASSERT_EQ(b.size(), 5u);
  EXPECT_EQ(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()), "hello");
  EXPECT_EQ(b.use_count(), 1u);
}

TEST(SharedBytes, CopiesShareStorageAndCount) {
  auto a = SharedBytes::copy_of("abc");
  {
    SharedBytes b = a;
    EXPECT_EQ(a.data(), b.data());
    EXPECT_EQ(a.use_count(), 2u);
  }
  EXPECT_EQ(a.use_count(), 1u);
}

TEST(SharedBytes, MoveLeavesSourceEmpty) {
  auto a = SharedBytes::copy_of("abc");
  SharedBytes b = std::move(a);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): documented state
  EXPECT_EQ(b.size(), 3u);
  EXPECT_EQ(b.use_count(), 1u);
}

TEST(SharedBytes, SliceViewsTheSameStorage) {
  auto a = SharedBytes::copy_of("0123456789");
  auto s = a.slice(2, 3);
  EXPECT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0], '2');
  EXPECT_EQ(a.use_count(), 2u);
}

TEST(SharedBytes, EmptyIsValid) {
  SharedBytes empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(empty.use_count(), 0u);
  SharedBytes copy = empty;
  EXPECT_TRUE(copy.empty());
}

TEST(MutableBytes, FreezeKeepsWrittenBytesWithoutCopy) {
  MutableBytes m(8);
  const uint8_t bytes[] = {1, 2, 3};
  m.append(bytes);
  const uint8_t* where = m.data();
  SharedBytes frozen = std::move(m).freeze();
  EXPECT_EQ(frozen.data(), where);
  EXPECT_EQ(frozen.size(), 3u);
}

TEST(SharedBytes, RefCountIsThreadSafe) {
  auto a = SharedBytes::copy_of("shared");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([a] {
      for (int i = 0; i < 10000; ++i) {
        SharedBytes copy = a;
        (void)copy;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(a.use_count(), 1u);
}

}  // namespace
}  // namespace cascade
