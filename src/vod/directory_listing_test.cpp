#include "vod/directory_listing.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace cascade::vod {
namespace {

DirectoryEntry file(std::string name, uint64_t size, int64_t mtime_s = 0) {
  return {std::move(name), false, size, mtime_s};
}
DirectoryEntry directory(std::string name, int64_t mtime_s = 0) {
  return {std::move(name), true, 0, mtime_s};
}

TEST(DirectoryListingPage, EscapesNamesInTextAndLinks) {
  DirectoryListing listing;
  listing.entries = {directory("sub dir", 86400), file("a&b <c>.mp4", 1234, 1700000000),
                     file("\"q'uote\".txt", 5),   file("javascript:alert(1)", 1),
                     file("caf\xc3\xa9.flv", 7),  file("100%.txt", 0)};
  const std::string page = render_directory_listing("/archive/<x>/", listing, true);
  EXPECT_NE(page.find("<title>Index of /archive/&lt;x&gt;/</title>"), std::string::npos);
  EXPECT_NE(page.find("<a href=\"../\">../</a>"), std::string::npos);
  EXPECT_NE(page.find("<a href=\"sub%20dir/\">sub dir/</a></td><td class=\"size\">-</td>"
                      "<td>1970-01-02 00:00</td>"),
            std::string::npos)
      << page;
  EXPECT_NE(page.find("<a href=\"a%26b%20%3Cc%3E.mp4\">a&amp;b &lt;c&gt;.mp4</a></td>"
                      "<td class=\"size\">1234</td><td>2023-11-14 22:13</td>"),
            std::string::npos)
      << page;
  EXPECT_NE(page.find("<a href=\"%22q%27uote%22.txt\">&quot;q&#39;uote&quot;.txt</a>"),
            std::string::npos);
  EXPECT_NE(page.find("<a href=\"javascript%3Aalert%281%29\">"), std::string::npos);
  EXPECT_NE(page.find("<a href=\"caf%C3%A9.flv\">caf\xc3\xa9.flv</a>"), std::string::npos);
  EXPECT_NE(page.find("<a href=\"100%25.txt\">100%.txt</a>"), std::string::npos);
  EXPECT_EQ(page.find("<script"), std::string::npos);
  EXPECT_EQ(page.find("<c>"), std::string::npos);
  EXPECT_EQ(page.find("Only the first"), std::string::npos);
}

TEST(DirectoryListingPage, TopLevelHasNoParentAndTruncationIsSaid) {
  DirectoryListing listing;
  listing.entries = {file("a.mp4", 1)};
  listing.truncated = true;
  const std::string page = render_directory_listing("/vod/", listing, false);
  EXPECT_EQ(page.find("../"), std::string::npos);
  EXPECT_NE(page.find("Only the first 1 entries read are listed."), std::string::npos);
  EXPECT_TRUE(page.starts_with("<!doctype html>"));
}

class DirectoryRead : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("cascade-dir-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    const auto root = dir_ / "root";
    std::filesystem::create_directories(root / "b-sub" / "deeper");
    std::filesystem::create_directories(root / ".hidden-dir");
    std::ofstream(root / "z.mp4") << "0123456789";
    std::ofstream(root / "a.txt") << "hi";
    std::ofstream(root / ".secret") << "x";
    std::ofstream(root / "b-sub" / "c.flv") << "flv";
    std::ofstream(dir_ / "outside.txt") << "outside";
    std::filesystem::create_symlink(dir_ / "outside.txt", root / "escape.txt");
    std::filesystem::create_symlink("..", root / "b-sub" / "up");  // to the root: inside
    std::filesystem::create_symlink("z.mp4", root / "link.mp4");
    std::filesystem::create_symlink("nowhere", root / "dangling");
    ASSERT_EQ(::mkfifo((root / "fifo").c_str(), 0600), 0);
    root_ = ::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    ASSERT_GE(root_, 0);
  }
  void TearDown() override {
    ::close(root_);
    std::filesystem::remove_all(dir_);
  }
  static std::vector<std::string> names(const DirectoryListing& listing) {
    std::vector<std::string> out;
    for (const auto& e : listing.entries) out.push_back(e.name + (e.is_directory ? "/" : ""));
    return out;
  }
  std::filesystem::path dir_;
  int root_ = -1;
};

TEST_F(DirectoryRead, ListsWhatCanBeServedSorted) {
  auto read = read_directory_beneath(root_, "");
  ASSERT_TRUE(std::holds_alternative<DirectoryListing>(read));
  const auto& listing = std::get<DirectoryListing>(read);
  EXPECT_EQ(names(listing), (std::vector<std::string>{"b-sub/", "a.txt", "link.mp4", "z.mp4"}));
  EXPECT_EQ(listing.entries[3].size, 10u);
  EXPECT_EQ(listing.entries[2].size, 10u);  // a symlink inside the root, shown as its target
  EXPECT_FALSE(listing.truncated);
  auto sub = read_directory_beneath(root_, "b-sub");
  ASSERT_TRUE(std::holds_alternative<DirectoryListing>(sub));
  EXPECT_EQ(names(std::get<DirectoryListing>(sub)),
            (std::vector<std::string>{"deeper/", "up/", "c.flv"}));
}

TEST_F(DirectoryRead, IsBounded) {
  auto read = read_directory_beneath(root_, "", 2);
  ASSERT_TRUE(std::holds_alternative<DirectoryListing>(read));
  EXPECT_EQ(std::get<DirectoryListing>(read).entries.size(), 2u);
  EXPECT_TRUE(std::get<DirectoryListing>(read).truncated);
}

TEST_F(DirectoryRead, RefusesWhatIsNotADirectoryBeneathTheRoot) {
  for (const char* path : {"nope", "z.mp4", "a.txt"}) {
    auto read = read_directory_beneath(root_, path);
    ASSERT_TRUE(std::holds_alternative<OpenError>(read)) << path;
    EXPECT_TRUE(std::get<OpenError>(read).not_found) << path;
  }
  auto escape = read_directory_beneath(root_, "b-sub/up/..");
  ASSERT_TRUE(std::holds_alternative<OpenError>(escape));
  EXPECT_FALSE(std::get<OpenError>(escape).not_found);
  EXPECT_TRUE(is_directory_beneath(root_, "b-sub"));
  EXPECT_TRUE(is_directory_beneath(root_, "b-sub/up"));
  EXPECT_FALSE(is_directory_beneath(root_, "z.mp4"));
  EXPECT_FALSE(is_directory_beneath(root_, "nope"));
}

}  // namespace
}  // namespace cascade::vod
