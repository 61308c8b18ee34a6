// The settings each component takes, translated from one Config snapshot
// (the composition root's only knowledge of the components' own types).
// Pure functions: the server calls them at start and again on every reload.
#pragma once

#include <memory>
#include <string>

#include "access/access_control.h"
#include "app/config.h"
#include "live/hub_config.h"
#include "net/http_server.h"
#include "servers/hls/hls_settings.h"
#include "servers/rtmp/rtmp_connection.h"
#include "vod/vod_settings.h"

namespace cascade::app {

live::HubConfig hub_config(const Config& config);
servers::HlsSettings hls_settings(const Config& config);
access::AccessSettings access_settings(const Config& config);
// One VOD root: [vod]'s settings (or a [[vod.roots]] entry's, resolved at
// load) for the files under `path`, served at URL `prefix`.
vod::VodSettings vod_settings(const Config::VodRootSettings& config, const std::string& prefix,
                              const std::string& path);
std::shared_ptr<const servers::RtmpServerConfig> rtmp_server_config(const Config& config);
net::HttpLimits http_limits(const Config& config);

}  // namespace cascade::app
