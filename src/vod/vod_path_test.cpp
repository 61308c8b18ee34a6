#include "vod/vod_path.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace cascade::vod {
namespace {

TEST(VodPath, RelativePathFromUrl) {
  EXPECT_EQ(relative_path_from_url("movie.mp4").value(), "movie.mp4");
  EXPECT_EQ(relative_path_from_url("a/b%20c.mp4").value(), "a/b c.mp4");
  for (const char* bad :
       {"", "/etc/passwd", "..", "../x", "a/../../x", "a/./b", "a//b", "a/", "%2e%2e/x",
        "%2E%2E%2Fx", "a%2F..%2F..%2Fx", "x%00.mp4", "a\\..\\b", "bad%zz", "trail%2"}) {
    EXPECT_FALSE(relative_path_from_url(bad).ok()) << bad;
  }
}

class VodOpen : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("cascade-vod-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_ / "root" / "sub");
    std::ofstream(dir_ / "root" / "sub" / "a.txt") << "hello";
    std::ofstream(dir_ / "secret.txt") << "secret";
    std::filesystem::create_symlink(dir_ / "secret.txt", dir_ / "root" / "escape.txt");
    std::filesystem::create_symlink("sub/a.txt", dir_ / "root" / "inside.txt");
    root_ = ::open((dir_ / "root").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    ASSERT_GE(root_, 0);
  }
  void TearDown() override {
    ::close(root_);
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
  int root_ = -1;
};

TEST_F(VodOpen, OpensRegularFilesBeneathTheRoot) {
  auto opened = open_beneath(root_, "sub/a.txt");
  ASSERT_TRUE(std::holds_alternative<OpenedFile>(opened));
  auto file = std::get<OpenedFile>(opened);
  EXPECT_EQ(file.size, 5u);
  ::close(file.fd);
  auto inside = open_beneath(root_, "inside.txt");  // a symlink that stays inside
  ASSERT_TRUE(std::holds_alternative<OpenedFile>(inside));
  ::close(std::get<OpenedFile>(inside).fd);
}

TEST_F(VodOpen, RefusesWhatLeavesTheRootDirectoriesAndMissingFiles) {
  auto escape = open_beneath(root_, "escape.txt");
  ASSERT_TRUE(std::holds_alternative<OpenError>(escape));
  EXPECT_FALSE(std::get<OpenError>(escape).not_found);
  EXPECT_EQ(std::get<OpenError>(escape).message, "path leaves the root");
  auto dotdot = open_beneath(root_, "../secret.txt");
  ASSERT_TRUE(std::holds_alternative<OpenError>(dotdot));
  EXPECT_FALSE(std::get<OpenError>(dotdot).not_found);
  auto directory = open_beneath(root_, "sub");
  ASSERT_TRUE(std::holds_alternative<OpenError>(directory));
  EXPECT_TRUE(std::get<OpenError>(directory).not_found);  // no listings: 404
  auto missing = open_beneath(root_, "nope.mp4");
  ASSERT_TRUE(std::holds_alternative<OpenError>(missing));
  EXPECT_TRUE(std::get<OpenError>(missing).not_found);
}

}  // namespace
}  // namespace cascade::vod
