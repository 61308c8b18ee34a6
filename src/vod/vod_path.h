// Turning a URL path into a file under a VOD root, safely: no "..", no
// percent-encoded tricks, no symlink that leaves the root (openat2
// RESOLVE_BENEATH, Linux 5.6+), no device or other special file.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "core/result.h"

namespace cascade::vod {

// The relative file path named by `url_path` (the part after the route's
// prefix, not yet percent-decoded). Errors (answered 400/404): bad escapes,
// NUL, backslash, empty, "." or ".." segments (also percent-encoded), a
// leading '/', more than 4096 bytes.
Result<std::string> relative_path_from_url(std::string_view url_path);

// An open regular file (read-only, close-on-exec) under `root_fd`, which
// must be an O_PATH or O_DIRECTORY descriptor of the root. Errors carry
// errno-like text; `not_found` tells 404 from 403.
struct OpenedFile {
  int fd = -1;
  uint64_t size = 0;
  int64_t mtime_s = 0;
  uint64_t inode = 0;
  uint64_t device = 0;
  // Modification time in nanoseconds: a file rewritten within the same
  // second (same size, same inode) still gets a new identity and ETag.
  int64_t mtime_ns = 0;
};
struct OpenError {
  bool not_found = false;
  std::string message;
};
std::variant<OpenedFile, OpenError> open_beneath(int root_fd, const std::string& relative);

}  // namespace cascade::vod
