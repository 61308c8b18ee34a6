#include "app/config.h"

#include <gtest/gtest.h>
#include <toml++/toml.h>

#include <fstream>
#include <set>
#include <sstream>

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

// The commented [[vod.roots]] example in the file: valid, and showing every
// key an entry accepts.
TEST(Config, ExampleFileShowsAVodRootWithEveryKey) {
  std::ifstream in(kExample);
  std::string line, example;
  bool inside = false;
  while (std::getline(in, line)) {
    if (line == "# [[vod.roots]]") inside = true;
    if (inside && !line.starts_with("# ")) break;
    if (inside) example += line.substr(2) + "\n";
  }
  ASSERT_FALSE(example.empty()) << "no '# [[vod.roots]]' example in " << kExample;
  toml::table table = toml::parse(example);
  std::set<std::string> in_example;
  for (const auto& [name, node] : *table["vod"]["roots"][0].as_table()) {
    in_example.insert(std::string(name.str()));
  }
  auto keys = vod_root_keys();
  EXPECT_EQ(in_example, std::set<std::string>(keys.begin(), keys.end()));
  auto parsed = parse_config(example, "example");
  ASSERT_TRUE(parsed) << parsed.error().message;
  ASSERT_EQ(parsed->vod.roots.size(), 1u);
  EXPECT_EQ(parsed->vod.roots[0].prefix, "/archive/");
}

TEST(Config, VodRootsInheritAndOverride) {
  auto parsed = parse_config(R"(
[vod]
root = "/srv/vod"
throttle_factor = 2.5
list_directories = true
[[vod.roots]]
prefix = "/archive/"
path = "/srv/archive"
throttle = false
cache_max_age_s = 60
[[vod.roots]]
prefix = "/a/b-c_d.e~f/"
path = "/srv/other"
list_directories = false
throttle_factor = 3
throttle_secret = "0123456789abcdef"
)",
                             "roots.toml");
  ASSERT_TRUE(parsed) << parsed.error().message;
  const Config::Vod& vod = parsed->vod;
  EXPECT_EQ(vod.throttle_factor, 2.5);
  ASSERT_EQ(vod.roots.size(), 2u);
  const auto& archive = vod.roots[0];
  EXPECT_EQ(archive.prefix, "/archive/");
  EXPECT_EQ(archive.path, "/srv/archive");
  EXPECT_FALSE(archive.settings.throttle);
  EXPECT_EQ(archive.settings.cache_max_age_s, 60u);
  EXPECT_EQ(archive.settings.throttle_factor, 2.5);       // [vod]'s
  EXPECT_TRUE(archive.settings.list_directories);         // [vod]'s
  EXPECT_EQ(archive.settings.stall_timeout_ms, 30'000u);  // the default
  const auto& other = vod.roots[1];
  EXPECT_FALSE(other.settings.list_directories);
  EXPECT_EQ(other.settings.throttle_factor, 3.0);
  EXPECT_EQ(other.settings.throttle_secret, "0123456789abcdef");
  EXPECT_TRUE(other.settings.throttle);
  // Rendered (inline tables, every key) and parsed back to the same.
  auto again = parse_config(to_toml(*parsed), "rendered");
  ASSERT_TRUE(again) << again.error().message << "\n" << to_toml(*parsed);
  EXPECT_EQ(*again, *parsed);
}

TEST(Config, RendersAndParsesBack) {
  Config config;
  config.rtmp.listen = "127.0.0.1:19350";
  config.live.coalesce_ms = 40;
  config.http.cors_origin = "https://a \"quoted\" origin";
  config.vod.throttle_secret = "a secret\twith\ncontrol characters\x7f";
  auto parsed = parse_config(to_toml(config), "rendered");
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(*parsed, config);
}

// [access] (src/access): publish keys as an inline table, webhook URLs and
// the play secret checked at load, everything rendered and parsed back.
TEST(Config, AccessSection) {
  auto parsed = parse_config(R"(
[access]
publish_keys = { live = ["k1", "k2"], "a b" = ["x\"y"] }
play_secret = "0123456789abcdef"
play_require_signature = false
on_publish = "http://127.0.0.1:8081/publish"
webhook_cache_ttl_ms = 0
)",
                             "access.toml");
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->access.publish_keys.at("live"), (std::vector<std::string>{"k1", "k2"}));
  EXPECT_EQ(parsed->access.publish_keys.at("a b"), (std::vector<std::string>{"x\"y"}));
  EXPECT_FALSE(parsed->access.play_require_signature);
  auto again = parse_config(to_toml(*parsed), "rendered");
  ASSERT_TRUE(again) << again.error().message << "\n" << to_toml(*parsed);
  EXPECT_EQ(*again, *parsed);

  for (const auto& [toml, message] : std::vector<std::pair<std::string, std::string>>{
           {"[access]\npublish_keys = { live = [] }", "app 'live': expected a non-empty array"},
           {"[access]\npublish_keys = { live = [\"\"] }", "non-empty string"},
           {"[access]\npublish_keys = [\"k\"]", "access.publish_keys: expected a table"},
           {"[access]\nplay_secret = \"short\"", "access.play_secret: at least 16"},
           {"[access]\non_play = \"https://x/\"", "access.on_play: 'https://x/' is not an http://"},
           {"[access]\non_done = \"http://x:0/\"", "bad port"},
       }) {
    auto bad = parse_config(toml, "bad.toml");
    ASSERT_FALSE(bad) << toml;
    EXPECT_NE(bad.error().message.find(message), std::string::npos) << bad.error().message;
  }
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
            "nothing to serve"},
        Bad{"throttle_factor", "[vod]\nthrottle_factor = 0.5\n",
            "vod.throttle_factor: 0.5 is out of range [1, 100]"},
        Bad{"throttle_factor_type", "[vod]\nthrottle_factor = \"fast\"\n",
            "vod.throttle_factor: expected a number"},
        Bad{"short_secret", "[vod]\nthrottle_secret = \"short\"\n",
            "vod.throttle_secret: at least 16 characters"},
        Bad{"root_unknown_key", "[[vod.roots]]\nprefix = \"/a/\"\npath = \"/x\"\nthrotle = true\n",
            "vod.roots[0] (/a/): unknown key 'throtle'"},
        Bad{"root_global_key", "[[vod.roots]]\nprefix = \"/a/\"\npath = \"/x\"\nroot = \"/y\"\n",
            "vod.roots[0] (/a/): unknown key 'root'"},
        Bad{"root_bad_value",
            "[[vod.roots]]\nprefix = \"/a/\"\npath = \"/x\"\nthrottle_factor = 1000\n",
            "vod.roots[0] (/a/): throttle_factor: 1000 is out of range"},
        Bad{"root_no_path", "[[vod.roots]]\nprefix = \"/a/\"\n",
            "vod.roots[0] (/a/): missing key 'path'"},
        Bad{"root_empty_path", "[[vod.roots]]\nprefix = \"/a/\"\npath = \"\"\n",
            "vod.roots[0] (/a/): path: must name a directory"},
        Bad{"root_no_prefix", "[[vod.roots]]\npath = \"/x\"\n",
            "vod.roots[0]: missing key 'prefix'"},
        Bad{"root_prefix_no_slash", "[[vod.roots]]\nprefix = \"/a\"\npath = \"/x\"\n",
            "prefix: '/a' must start and end with '/'"},
        Bad{"root_prefix_slash_only", "[[vod.roots]]\nprefix = \"/\"\npath = \"/x\"\n",
            "must start and end with '/'"},
        Bad{"root_prefix_dotdot", "[[vod.roots]]\nprefix = \"/a/../\"\npath = \"/x\"\n",
            "'/a/../' has an empty, '.' or '..' segment"},
        Bad{"root_prefix_empty_segment", "[[vod.roots]]\nprefix = \"/a//b/\"\npath = \"/x\"\n",
            "has an empty"},
        Bad{"root_prefix_escape", "[[vod.roots]]\nprefix = \"/a%20b/\"\npath = \"/x\"\n",
            "may hold only letters, digits and -._~"},
        Bad{"root_prefix_type", "[[vod.roots]]\nprefix = 3\npath = \"/x\"\n",
            "vod.roots[0]: prefix: expected a string"},
        Bad{"root_duplicate",
            "[[vod.roots]]\nprefix = \"/a/\"\npath = \"/x\"\n"
            "[[vod.roots]]\nprefix = \"/a/\"\npath = \"/y\"\n",
            "vod.roots[1] (/a/): duplicate prefix /a/"},
        Bad{"root_nested",
            "[[vod.roots]]\nprefix = \"/a/\"\npath = \"/x\"\n"
            "[[vod.roots]]\nprefix = \"/a/b/\"\npath = \"/y\"\n",
            "vod.roots[1] (/a/b/): prefixes /a/ and /a/b/ overlap"},
        Bad{"root_takes_vod",
            "[vod]\nroot = \"/v\"\n[[vod.roots]]\nprefix = \"/vod/\"\npath = \"/x\"\n",
            "duplicate prefix /vod/ (vod.root's)"},
        Bad{"root_inside_vod",
            "[vod]\nroot = \"/v\"\n[[vod.roots]]\nprefix = \"/vod/old/\"\npath = \"/x\"\n",
            "prefixes /vod/ and /vod/old/ overlap"},
        Bad{"root_reserved", "[[vod.roots]]\nprefix = \"/api/files/\"\npath = \"/x\"\n",
            "prefix /api/files/ is taken by Cascade's own /api/ routes"},
        Bad{"root_reserved_watch", "[[vod.roots]]\nprefix = \"/watch/\"\npath = \"/x\"\n",
            "taken by Cascade's own /watch/"},
        Bad{"roots_not_tables", "[vod]\nroots = [1]\n", "vod.roots[0]: expected a table"},
        Bad{"roots_not_array", "[vod]\nroots = \"/a/\"\n",
            "vod.roots: expected an array of tables"}),
    [](const auto& p) { return std::string(p.param.name); });

// [tls]: listeners need a certificate and key that load (the loading itself
// is tested in net/tls_context_test.cpp).
INSTANTIATE_TEST_SUITE_P(
    Tls, ConfigErrors,
    ::testing::Values(
        Bad{"tls_listener_without_cert", "[tls]\nhttps_listen = \"127.0.0.1:8443\"\n",
            "a TLS listener needs both tls.cert_file and tls.key_file"},
        Bad{"tls_cert_without_key", "[tls]\ncert_file = \"/x.pem\"\n",
            "a certificate needs both tls.cert_file and tls.key_file"},
        Bad{"tls_bad_listen", "[tls]\nrtmps_listen = \"localhost\"\n", "tls.rtmps_listen"},
        Bad{"tls_rtmps_without_rtmp",
            "[rtmp]\nenabled = false\n[tls]\ncert_file = \"/x.pem\"\nkey_file = \"/x.key\"\n"
            "rtmps_listen = \"127.0.0.1:0\"\n",
            "tls.rtmps_listen is set but rtmp.enabled is false"},
        Bad{"tls_unreadable_cert",
            "[tls]\ncert_file = \"/nonexistent/cert.pem\"\nkey_file = \"/nonexistent/key.pem\"\n"
            "https_listen = \"127.0.0.1:0\"\n",
            "tls: certificate file /nonexistent/cert.pem: cannot be read"}),
    [](const auto& p) { return std::string(p.param.name); });

}  // namespace
}  // namespace cascade::app

namespace cascade::app {
namespace {

TEST(Config, LimitsSection) {
  auto parsed = parse_config(R"(
[limits]
max_connections = 20000
max_connections_per_ip = 100
accept_rate_per_ip = 20
accept_burst_per_ip = 50
max_publishers = 10
max_streams = 12
rtmp_setup_timeout_ms = 0
)",
                             "limits.toml");
  ASSERT_TRUE(parsed) << parsed.error().message;
  const Config::Limits& limits = parsed->limits;
  EXPECT_EQ(limits.max_connections, 20000u);
  EXPECT_EQ(limits.max_connections_per_ip, 100u);
  EXPECT_EQ(limits.accept_rate_per_ip, 20u);
  EXPECT_EQ(limits.accept_burst_per_ip, 50u);
  EXPECT_EQ(limits.max_publishers, 10u);
  EXPECT_EQ(limits.max_streams, 12u);
  EXPECT_EQ(limits.rtmp_setup_timeout_ms, 0u);
  // The defaults refuse nothing.
  const Config::Limits defaults;
  EXPECT_EQ(defaults.max_connections + defaults.max_connections_per_ip +
                defaults.accept_rate_per_ip + defaults.max_publishers + defaults.max_streams,
            0u);

  auto burst_alone = parse_config("[limits]\naccept_burst_per_ip = 5\n", "x.toml");
  ASSERT_FALSE(burst_alone);
  EXPECT_NE(burst_alone.error().message.find("accept_burst_per_ip (5) needs "
                                             "limits.accept_rate_per_ip"),
            std::string::npos)
      << burst_alone.error().message;
  auto negative = parse_config("[limits]\nmax_connections = -1\n", "x.toml");
  ASSERT_FALSE(negative);
  EXPECT_NE(negative.error().message.find("limits.max_connections"), std::string::npos);
}

}  // namespace
}  // namespace cascade::app
