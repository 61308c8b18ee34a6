#include "app/config_diff.h"

#include <gtest/gtest.h>

namespace cascade::app {
namespace {

using Keys = std::vector<std::string>;

TEST(ConfigDiff, SameConfigHasNoChanges) {
  Config config;
  config.vod.roots.push_back({"/a/", "/srv/a", {}});
  EXPECT_TRUE(diff_config(config, config).empty());
}

TEST(ConfigDiff, ReloadableChangesAreListed) {
  Config running, next;
  next.http.cors_origin = "https://example.com";
  next.hls.segment_target_ms = 4000;
  next.admin.token = "0123456789abcdef";
  const ConfigDiff diff = diff_config(running, next);
  EXPECT_EQ(diff.changed, (Keys{"http.cors_origin", "hls.segment_target_ms", "admin.token"}));
  EXPECT_TRUE(diff.needs_restart.empty());
}

TEST(ConfigDiff, VodRootsAreComparedAsAWhole) {
  Config running, next;
  next.vod.roots.push_back({"/archive/", "/srv/archive", {}});
  EXPECT_EQ(diff_config(running, next).changed, Keys{"vod.roots"});
  running = next;
  next.vod.roots[0].settings.throttle = false;  // a per-root override
  EXPECT_EQ(diff_config(running, next).changed, Keys{"vod.roots"});
}

TEST(ConfigDiff, RestartOnlyKeysAreDetected) {
  Config running, next;
  next.rtmp.listen = "127.0.0.1:1936";
  next.server.workers = 3;
  next.live.lag_skip_ms = 2000;
  next.rtmp.chunk_size = 128;
  next.rtmp.handshake_timeout_ms = 500;  // reloadable
  const ConfigDiff diff = diff_config(running, next);
  EXPECT_EQ(diff.changed, (Keys{"server.workers", "rtmp.listen", "rtmp.chunk_size",
                                "rtmp.handshake_timeout_ms", "live.lag_skip_ms"}));
  EXPECT_EQ(diff.needs_restart,
            (Keys{"server.workers", "rtmp.listen", "rtmp.chunk_size", "live.lag_skip_ms"}));
}

// keep_restart_settings and needs_restart agree, key by key: after it, no
// restart-only key differs from the running config, and reloadable ones keep
// the new value.
TEST(ConfigDiff, KeepRestartSettingsUndoesExactlyTheRestartOnlyKeys) {
  Config running;
  Config next;
  next.server.workers = 7;
  next.server.send_buffer_bytes = 1;
  next.server.log_level = "debug";
  next.rtmp.enabled = false;
  next.rtmp.listen = "127.0.0.1:1";
  next.rtmp.chunk_size = 999;
  next.rtmp.publisher_idle_timeout_ms = 1234;
  next.http.enabled = false;
  next.http.listen = "127.0.0.1:2";
  next.http.idle_timeout_ms = 4321;
  next.hls.enabled = false;
  next.hls.window_segments = 5;
  next.live.gop_cache = false;
  next.live.coalesce_ms = 1;
  next.admin.listen = "127.0.0.1:3";
  next.admin.token = "0123456789abcdef";
  next.drain.timeout_s = 5;
  const ConfigDiff full = diff_config(running, next);
  for (const auto& key : full.needs_restart) EXPECT_TRUE(needs_restart(key)) << key;
  const Config applied = keep_restart_settings(running, next);
  const ConfigDiff left = diff_config(running, applied);
  EXPECT_TRUE(left.needs_restart.empty());
  Keys reloadable;
  for (const auto& key : full.changed) {
    if (!needs_restart(key)) reloadable.push_back(key);
  }
  EXPECT_EQ(left.changed, reloadable);
  EXPECT_EQ(left.changed,
            (Keys{"server.log_level", "rtmp.publisher_idle_timeout_ms", "http.idle_timeout_ms",
                  "hls.window_segments", "drain.timeout_s", "admin.token"}));
}

}  // namespace
}  // namespace cascade::app
