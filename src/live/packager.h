// The packager concept: turns frames into one format's wire bytes. There is
// exactly one packager per (stream, format) with consumers, called on the
// stream's home worker once per frame (ARCHITECTURE.md, "package once").
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/shared_bytes.h"
#include "media/frame.h"

namespace cascade::live {

class Packager {
 public:
  virtual ~Packager() = default;
  virtual SharedBytes package(const media::Frame& frame) = 0;
};

// An output format the hub can package to, registered once at start-up.
struct OutputFormat {
  std::string name;  // "rtmp", "flv"
  std::function<std::unique_ptr<Packager>()> make_packager;
};

// Index into the registered formats.
using FormatId = size_t;

}  // namespace cascade::live
