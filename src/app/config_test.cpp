#include "app/config.h"

#include <gtest/gtest.h>
#include <toml++/toml.h>

#include <set>

namespace cascade::app {
namespace {

const std::string kExample = std::string(CASCADE_SOURCE_DIR) + "/conf/cascade.toml";

TEST(Config, ExampleFileLoadsToTheDefaults) {
  auto loaded = load_config_file(kExample);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(*loaded, Config{}) << "conf/cascade.toml and the Config defaults disagree";
}

TEST(Config, ExampleFileDocumentsEveryKey) {
  toml::table table = toml::parse_file(kExample);
  std::set<std::string> in_file;
  for (const auto& [section, entries] : table) {
    for (const auto& [name, node] : *entries.as_table()) {
      in_file.insert(std::string(section.str()) + "." + std::string(name.str()));
    }
  }
  auto keys = config_keys();
  EXPECT_EQ(in_file, std::set<std::string>(keys.begin(), keys.end()));
}

TEST(Config, RendersAndParsesBack) {
  Config config;
  config.rtmp.listen = "127.0.0.1:19350";
  config.live.coalesce_ms = 40;
  config.http.cors_origin = "https://a \"quoted\" origin";
  auto parsed = parse_config(to_toml(config), "rendered");
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(*parsed, config);
}

TEST(Config, EmptyTextIsTheDefaults) {
  auto parsed = parse_config("", "empty");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(*parsed, Config{});
}

struct Bad {
  const char* name;
  const char* toml;
  const char* message_part;
};

class ConfigErrors : public ::testing::TestWithParam<Bad> {};

TEST_P(ConfigErrors, NameTheKeyAndTheProblem) {
  auto parsed = parse_config(GetParam().toml, "test.toml");
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().message.find(GetParam().message_part), std::string::npos)
      << parsed.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    App, ConfigErrors,
    ::testing::Values(
        Bad{"unknown_key", "[rtmp]\nchunksize = 10\n", "unknown key 'rtmp.chunksize'"},
        Bad{"unknown_section", "[nope]\nx = 1\n", "unknown key 'nope.x'"},
        Bad{"wrong_type", "[rtmp]\nchunk_size = \"big\"\n", "rtmp.chunk_size: expected an integer"},
        Bad{"out_of_range", "[rtmp]\nchunk_size = 1\n", "rtmp.chunk_size: 1 is out of range"},
        Bad{"negative", "[server]\nworkers = -1\n", "server.workers: -1 is out of range"},
        Bad{"bad_listen", "[http]\nlisten = \"localhost\"\n", "http.listen"},
        Bad{"bad_address", "[http]\nlisten = \"999.1.1.1:80\"\n", "invalid IP address"},
        Bad{"bad_bool", "[live]\ngop_cache = 1\n", "live.gop_cache: expected true or false"},
        Bad{"bad_level", "[server]\nlog_level = \"loud\"\n", "server.log_level"},
        Bad{"not_a_section", "workers = 2\n", "'workers' is not a [section]"},
        Bad{"syntax", "[rtmp\n", "test.toml:"},
        Bad{"lag_order", "[live]\nlag_skip_ms = 5000\nlag_close_ms = 4000\n",
            "live.lag_close_ms (4000) must be greater"},
        Bad{"part_too_long", "[hls]\nsegment_target_ms = 1000\npart_target_ms = 600\n",
            "hls.part_target_ms (600) must be at most half"},
        Bad{"segment_too_short", "[hls]\nsegment_target_ms = 500\n",
            "hls.segment_target_ms: 500 is out of range"},
        Bad{"nothing_enabled", "[rtmp]\nenabled = false\n[http]\nenabled = false\n",
            "nothing to serve"}),
    [](const auto& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace cascade::app
