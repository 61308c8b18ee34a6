// Directory listings for VOD roots that enable them (list_directories):
// reading a directory beneath a root as safely as files are opened
// (vod_path.h: openat2 RESOLVE_BENEATH), and rendering it as an HTML page.
//
// What is listed: regular files and directories, and symlinks whose target
// is one of those and stays inside the root (shown as the target). Hidden:
// names starting with '.', everything else (devices, FIFOs, sockets,
// symlinks leaving the root or dangling). At most `max_entries` are listed
// (the page then says so), so a huge directory costs bounded memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "vod/vod_path.h"

namespace cascade::vod {

inline constexpr size_t kMaxListedEntries = 10'000;

struct DirectoryEntry {
  std::string name;  // one path segment, as stored on disk
  bool is_directory = false;
  uint64_t size = 0;  // bytes; 0 for directories
  int64_t mtime_s = 0;
};

struct DirectoryListing {
  // Directories first, then files, each by name (bytewise).
  std::vector<DirectoryEntry> entries;
  bool truncated = false;  // more entries exist than are listed
};

// The directory `relative` (from relative_path_from_url; "" for the root
// itself) beneath `root_fd`. Errors as open_beneath's: not_found for a
// missing path or one that is not a directory, else forbidden (a path
// leaving the root, permissions).
std::variant<DirectoryListing, OpenError> read_directory_beneath(
    int root_fd, const std::string& relative, size_t max_entries = kMaxListedEntries);

// True when `relative` names a directory beneath `root_fd`.
bool is_directory_beneath(int root_fd, const std::string& relative);

// The HTML page (UTF-8) for `listing` of the directory at URL path
// `display_path` (percent-decoded, shown as the title). Names are
// HTML-escaped in text and percent-encoded in the relative links (every byte
// but RFC 3986 unreserved characters), directories get a trailing '/', and
// `has_parent` adds a "../" link. Sizes in bytes, times in UTC.
std::string render_directory_listing(std::string_view display_path, const DirectoryListing& listing,
                                     bool has_parent);

}  // namespace cascade::vod
