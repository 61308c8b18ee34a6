// Files of web/ (the pages and the vendored players) embedded in the binary
// at build time by embed_web_assets.cmake, so the server needs no files on
// disk and builds need no network.
#pragma once

#include <span>
#include <string_view>

namespace cascade::servers {

struct WebAsset {
  std::string_view name;   // the file's base name, e.g. "watch.js"
  std::string_view bytes;  // its content, static for the life of the process
};

// Every embedded file, in a fixed order. Defined in the generated web_assets.cpp.
std::span<const WebAsset> embedded_web_assets();

}  // namespace cascade::servers
