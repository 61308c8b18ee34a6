#include "servers/web/web_route.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace cascade::servers {
namespace {

const WebAsset kAssets[] = {
    {"index.html", "<!doctype html>index"},
    {"watch.html", "<!doctype html>watch"},
    {"watch.js", "'use strict';"},
    {"style.css", "body{}"},
    {"hls.min.js", "var Hls;"},
    {"LICENSE-hls.js.txt", "Apache"},
};

TEST(WebFiles, MapsPathsToFiles) {
  WebFiles files(kAssets);
  struct Case {
    std::string_view path;
    std::string_view body;  // empty: not the web route's
  };
  const Case cases[] = {
      {"/", "<!doctype html>index"},
      {"/watch/live/abc", "<!doctype html>watch"},
      {"/watch/a%20b/c.d", "<!doctype html>watch"},
      {"/static/watch.js", "'use strict';"},
      {"/static/style.css", "body{}"},
      {"/static/hls.min.js", "var Hls;"},
      {"/static/LICENSE-hls.js.txt", "Apache"},
      // Pages are not static files, and other paths belong to other routes.
      {"/static/index.html", ""},
      {"/static/watch.html", ""},
      {"/static/", ""},
      {"/static/nope.js", ""},
      {"/static/../watch.js", ""},
      {"/index.html", ""},
      {"/watch", ""},
      {"/watch/", ""},
      {"/watch/live", ""},
      {"/watch/live/", ""},
      {"/watch//abc", ""},
      {"/watch/live/abc/", ""},
      {"/watch/live/abc/more", ""},
      {"/live/abc.m3u8", ""},
      {"/live/abc.flv", ""},
      {"/api/v1/streams", ""},
      {"", ""},
  };
  for (const auto& c : cases) {
    const WebFile* file = files.find(c.path);
    if (c.body.empty()) {
      EXPECT_EQ(file, nullptr) << c.path;
    } else {
      ASSERT_NE(file, nullptr) << c.path;
      EXPECT_EQ(file->body, c.body) << c.path;
    }
  }
}

TEST(WebFiles, TypesAndCaching) {
  WebFiles files(kAssets);
  EXPECT_EQ(files.find("/")->content_type, "text/html; charset=utf-8");
  EXPECT_EQ(files.find("/")->cache_control, "no-cache");
  EXPECT_EQ(files.find("/watch/live/x")->cache_control, "no-cache");
  EXPECT_EQ(files.find("/static/watch.js")->content_type, "text/javascript");
  EXPECT_EQ(files.find("/static/style.css")->content_type, "text/css");
  EXPECT_EQ(files.find("/static/LICENSE-hls.js.txt")->content_type, "text/plain; charset=utf-8");
  EXPECT_EQ(files.find("/static/style.css")->cache_control, "public, max-age=86400");
  EXPECT_EQ(files.find("/static/style.css")->etag, make_etag("body{}"));
}

TEST(WebFiles, MissingPagesAreNotServed) {
  const WebAsset only_js[] = {{"watch.js", "x"}};
  WebFiles files(only_js);
  EXPECT_EQ(files.find("/"), nullptr);
  EXPECT_EQ(files.find("/watch/live/abc"), nullptr);
  EXPECT_NE(files.find("/static/watch.js"), nullptr);
}

TEST(WebEtag, StrongQuotedAndContentDependent) {
  // FNV-1a 64 test vectors.
  EXPECT_EQ(make_etag(""), "\"cbf29ce484222325\"");
  EXPECT_EQ(make_etag("a"), "\"af63dc4c8601ec8c\"");
  EXPECT_NE(make_etag("body{}"), make_etag("body{ }"));
}

TEST(WebEtag, IfNoneMatch) {
  const std::string etag = "\"0123456789abcdef\"";
  struct Case {
    std::string_view field;
    bool matches;
  };
  const Case cases[] = {
      {"\"0123456789abcdef\"", true},
      {"W/\"0123456789abcdef\"", true},  // weak comparison (RFC 9110 13.1.2)
      {"\"x\", \"0123456789abcdef\"", true},
      {"\"x\",\"0123456789abcdef\" ", true},
      {"*", true},
      {"\"x\"", false},
      {"0123456789abcdef", false},  // unquoted: not the same opaque tag
      {"\"0123456789abcde\"", false},
      {"", false},
      {",", false},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(if_none_match_matches(c.field, etag), c.matches) << c.field;
  }
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The generated web_assets.cpp holds exactly web/pages/* and the served
// vendor files, byte for byte.
TEST(EmbeddedWebAssets, MatchTheFilesInWeb) {
  const std::filesystem::path web = std::filesystem::path(CASCADE_SOURCE_DIR) / "web";
  std::set<std::string> expected;
  for (const auto& entry : std::filesystem::directory_iterator(web / "pages")) {
    expected.insert("pages/" + entry.path().filename().string());
  }
  for (const auto& entry : std::filesystem::directory_iterator(web / "vendor")) {
    const auto ext = entry.path().extension();
    if (ext == ".js" || ext == ".txt") {
      expected.insert("vendor/" + entry.path().filename().string());
    }
  }
  std::set<std::string> embedded;
  for (const WebAsset& asset : embedded_web_assets()) {
    const std::string name(asset.name);
    const std::string rel =
        std::filesystem::exists(web / "pages" / name) ? "pages/" + name : "vendor/" + name;
    embedded.insert(rel);
    EXPECT_EQ(asset.bytes, read_file(web / rel)) << rel;
  }
  EXPECT_EQ(embedded, expected);
  for (const char* name :
       {"index.html", "watch.html", "watch.js", "style.css", "hls.min.js", "mpegts.js"}) {
    EXPECT_TRUE(embedded.contains(std::string("pages/") + name) ||
                embedded.contains(std::string("vendor/") + name))
        << name;
  }
}

TEST(EmbeddedWebAssets, ServeThePages) {
  WebFiles files(embedded_web_assets());
  ASSERT_NE(files.find("/"), nullptr);
  EXPECT_NE(files.find("/")->body.find("/api/v1/streams"), std::string_view::npos);
  ASSERT_NE(files.find("/watch/live/abc"), nullptr);
  EXPECT_NE(files.find("/watch/live/abc")->body.find("/static/watch.js"), std::string_view::npos);
  for (const char* path :
       {"/static/watch.js", "/static/style.css", "/static/hls.min.js", "/static/mpegts.js"}) {
    EXPECT_NE(files.find(path), nullptr) << path;
  }
}

}  // namespace
}  // namespace cascade::servers
