#include "vod/file_index_cache.h"

#include <gtest/gtest.h>

#include <string>

namespace cascade::vod {
namespace {

struct FakeIndex {
  size_t bytes = 0;
  int built = 0;
  size_t memory_bytes() const { return bytes; }
};

FileIdentity file(uint64_t inode) {
  return {1, inode, 1000, 1700000000};
}

TEST(FileIndexCache, KeepsIndexesByFileIdentityWithinABudget) {
  FileIndexCache<FakeIndex> cache(250, "test_file_index_cache_hits_total",
                                  "test_file_index_cache_misses_total");
  Counter& hits = Metrics::global().counter("test_file_index_cache_hits_total");
  Counter& misses = Metrics::global().counter("test_file_index_cache_misses_total");
  int builds = 0;
  auto build = [&builds](size_t bytes) {
    return [&builds, bytes]() -> Result<FakeIndex> { return FakeIndex{bytes, ++builds}; };
  };
  auto a = cache.get(file(1), build(100));
  ASSERT_TRUE(a);
  EXPECT_EQ((*a)->built, 1);
  auto again = cache.get(file(1), build(100));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->get(), a->get());  // the same index, not rebuilt
  EXPECT_EQ(hits.value(), 1u);
  EXPECT_EQ(misses.value(), 1u);
  // A changed file (new mtime) is a new identity.
  FileIdentity touched = file(1);
  touched.mtime_ns += 1;
  EXPECT_EQ((*cache.get(touched, build(100)))->built, 2);
  EXPECT_EQ(cache.bytes(), 200u);
  // Over budget: the least recently used goes (file(1), then touched...).
  ASSERT_TRUE(cache.get(file(1), build(100)));  // now most recent
  ASSERT_TRUE(cache.get(file(2), build(100)));  // evicts `touched`
  EXPECT_EQ(cache.bytes(), 200u);
  EXPECT_EQ(cache.entries(), 2u);
  EXPECT_EQ((*cache.get(file(1), build(100)))->built, 1);
  EXPECT_EQ((*cache.get(touched, build(100)))->built, 4);
  // Larger than the whole budget: returned, not kept.
  auto huge = cache.get(file(3), build(1000));
  ASSERT_TRUE(huge);
  EXPECT_EQ(cache.bytes(), 200u);
}

TEST(FileIndexCache, KeepsFailuresSoABrokenFileIsParsedOncePerVersion) {
  using Cache = FileIndexCache<FakeIndex>;
  Cache cache(Cache::kFailureBytes + 6 + 10, "test_file_index_cache_hits_total",
              "test_file_index_cache_misses_total");
  int failures = 0;
  auto fail = [&failures]() -> Result<FakeIndex> {
    ++failures;
    return make_error("broken");
  };
  auto first = cache.get(file(4), fail);
  ASSERT_FALSE(first);
  EXPECT_EQ(first.error().message, "broken");
  auto second = cache.get(file(4), fail);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error().message, "broken");
  EXPECT_EQ(failures, 1);
  EXPECT_EQ(cache.bytes(), Cache::kFailureBytes + 6);
  // A new version of the file is tried again; failures share the budget.
  FileIdentity fixed = file(4);
  fixed.mtime_ns += 1;
  auto good = cache.get(fixed, [] { return Result<FakeIndex>(FakeIndex{10, 1}); });
  ASSERT_TRUE(good);
  EXPECT_EQ(cache.bytes(), Cache::kFailureBytes + 6 + 10);
  EXPECT_EQ(cache.entries(), 2u);
  // One more failure does not fit with the others: the least recently used
  // (file 4's failure) goes, and is parsed again when asked for.
  EXPECT_FALSE(cache.get(file(5), fail));
  EXPECT_EQ(failures, 2);
  EXPECT_EQ(cache.entries(), 2u);
  EXPECT_EQ(cache.bytes(), Cache::kFailureBytes + 6 + 10);
  EXPECT_FALSE(cache.get(file(4), fail));
  EXPECT_EQ(failures, 3);
}

}  // namespace
}  // namespace cascade::vod
