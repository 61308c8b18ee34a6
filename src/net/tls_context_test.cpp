#include "net/tls_context.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "net/tls_test_util.h"

namespace cascade::net {
namespace {

namespace fs = std::filesystem;

using testing_tls::write_self_signed;

class TlsContextTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cascade_tls_test_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    write_self_signed(cert(), key(), 0x1111, "first.test");
    write_self_signed(dir_ / "other.pem", dir_ / "other.key", 0x2222, "second.test");
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path cert() const { return dir_ / "cert.pem"; }
  fs::path key() const { return dir_ / "key.pem"; }

  fs::path dir_;
};

TEST_F(TlsContextTest, LoadsAMatchingPairAndDescribesIt) {
  auto context = make_server_tls_context(cert(), key());
  ASSERT_TRUE(context) << context.error().message;
  const std::string description = describe_certificate(**context);
  EXPECT_NE(description.find("CN=first.test"), std::string::npos) << description;
  EXPECT_NE(description.find("serial=1111"), std::string::npos) << description;
}

TEST_F(TlsContextTest, RefusesTls10And11) {
  auto context = make_server_tls_context(cert(), key());
  ASSERT_TRUE(context) << context.error().message;
  EXPECT_EQ(SSL_CTX_get_min_proto_version((*context)->native_handle()), TLS1_2_VERSION);
}

TEST_F(TlsContextTest, ErrorsNameTheProblem) {
  auto missing = make_server_tls_context(dir_ / "nope.pem", key());
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("cannot be read"), std::string::npos);

  auto mismatched = make_server_tls_context(cert(), dir_ / "other.key");
  ASSERT_FALSE(mismatched);
  EXPECT_NE(mismatched.error().message.find("does not match"), std::string::npos)
      << mismatched.error().message;

  std::ofstream(dir_ / "garbage.pem") << "not a certificate\n";
  auto garbage = make_server_tls_context(dir_ / "garbage.pem", key());
  ASSERT_FALSE(garbage);
  EXPECT_NE(garbage.error().message.find("certificate file"), std::string::npos);

  auto empty = make_server_tls_context("", key());
  ASSERT_FALSE(empty);
}

TEST_F(TlsContextTest, ReloadSwapsOnlyForAGoodPair) {
  auto store = TlsContextStore::open(cert(), key());
  ASSERT_TRUE(store) << store.error().message;
  TlsContextPtr first = (*store)->current();

  // A bad new pair (the key of another certificate): rejected, old kept.
  fs::copy_file(dir_ / "other.key", key(), fs::copy_options::overwrite_existing);
  Status bad = (*store)->reload();
  ASSERT_FALSE(bad);
  EXPECT_EQ((*store)->current(), first);

  // The matching certificate arrives: swapped; the old one stays valid for
  // the connections that hold it.
  fs::copy_file(dir_ / "other.pem", cert(), fs::copy_options::overwrite_existing);
  Status good = (*store)->reload();
  ASSERT_TRUE(good) << good.error().message;
  TlsContextPtr second = (*store)->current();
  EXPECT_NE(second, first);
  EXPECT_NE(describe_certificate(*second).find("CN=second.test"), std::string::npos);
  EXPECT_NE(describe_certificate(*first).find("CN=first.test"), std::string::npos);
}

}  // namespace
}  // namespace cascade::net
