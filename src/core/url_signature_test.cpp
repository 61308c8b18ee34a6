#include "core/url_signature.h"

#include <gtest/gtest.h>

#include <cctype>
#include <string>

namespace cascade {
namespace {

// RFC 4231 4.3 (test case 2) and 4.2 (test case 1): HMAC-SHA-256.
TEST(UrlSignature, MatchesRfc4231Vectors) {
  EXPECT_EQ(sign_message("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  const std::string key(20, '\x0b');
  EXPECT_EQ(sign_message(key, "Hi There"),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}

TEST(UrlSignature, VerifiesItsOwnSignatureInEitherCase) {
  const std::string signature = sign_message("secret key", "/vod/a.mp4\n1.5\n1700000000");
  EXPECT_TRUE(verify_message("secret key", "/vod/a.mp4\n1.5\n1700000000", signature));
  std::string upper = signature;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(verify_message("secret key", "/vod/a.mp4\n1.5\n1700000000", upper));
}

TEST(UrlSignature, RefusesAnythingElse) {
  const std::string message = "/vod/a.mp4\n0\n1700000000";
  const std::string signature = sign_message("secret key", message);
  EXPECT_FALSE(verify_message("other key", message, signature));
  EXPECT_FALSE(verify_message("secret key", "/vod/b.mp4\n0\n1700000000", signature));
  EXPECT_FALSE(verify_message("", message, signature));
  EXPECT_FALSE(verify_message("secret key", message, ""));
  EXPECT_FALSE(verify_message("secret key", message, signature.substr(0, 63)));
  EXPECT_FALSE(verify_message("secret key", message, signature + "0"));
  std::string flipped = signature;
  flipped[40] = flipped[40] == '0' ? '1' : '0';
  EXPECT_FALSE(verify_message("secret key", message, flipped));
  std::string not_hex = signature;
  not_hex[0] = 'g';
  EXPECT_FALSE(verify_message("secret key", message, not_hex));
}

}  // namespace
}  // namespace cascade
