#include "vod/directory_listing.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "core/percent_encoding.h"

namespace cascade::vod {
namespace {

// openat2 beneath the root (vod_path.cpp does the same for files): no
// component, symlinks included, may leave it.
int open_beneath_flags(int root_fd, const std::string& relative, uint64_t flags) {
  open_how how{};
  how.flags = flags | O_CLOEXEC;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  const char* path = relative.empty() ? "." : relative.c_str();
  return static_cast<int>(syscall(SYS_openat2, root_fd, path, &how, sizeof how));
}

OpenError open_error(int error) {
  OpenError e;
  e.not_found = error == ENOENT || error == ENOTDIR;
  e.message = error == EXDEV ? "path leaves the root" : std::strerror(error);
  return e;
}

// The entry as listed, or false to hide it.
bool describe(int root_fd, int dir_fd, const std::string& relative, const char* name,
              DirectoryEntry& entry) {
  struct stat st {};
  if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return false;
  if (S_ISLNK(st.st_mode)) {
    // Shown as its target only if that stays beneath the root, resolved
    // exactly as a request for it would be.
    const std::string path = relative.empty() ? std::string(name) : relative + "/" + name;
    const int fd = open_beneath_flags(root_fd, path, O_PATH);
    if (fd < 0) return false;
    const int stat_result = fstat(fd, &st);
    ::close(fd);
    if (stat_result != 0) return false;
  }
  if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) return false;
  entry.name = name;
  entry.is_directory = S_ISDIR(st.st_mode);
  entry.size = entry.is_directory ? 0 : static_cast<uint64_t>(st.st_size);
  entry.mtime_s = static_cast<int64_t>(st.st_mtim.tv_sec);
  return true;
}

void append_html_escaped(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out.push_back(c);
    }
  }
}

std::string format_utc(int64_t unix_s) {
  const time_t t = static_cast<time_t>(unix_s);
  tm utc{};
  if (!gmtime_r(&t, &utc)) return "-";
  return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}", utc.tm_year + 1900, utc.tm_mon + 1,
                     utc.tm_mday, utc.tm_hour, utc.tm_min);
}

}  // namespace

std::variant<DirectoryListing, OpenError> read_directory_beneath(int root_fd,
                                                                 const std::string& relative,
                                                                 size_t max_entries) {
  const int fd = open_beneath_flags(root_fd, relative, O_RDONLY | O_DIRECTORY);
  if (fd < 0) return open_error(errno);
  DIR* dir = fdopendir(fd);  // owns fd from here
  if (!dir) {
    const int error = errno;
    ::close(fd);
    return open_error(error);
  }
  // Hidden entries are read too; this bounds the reading, not only the page.
  const size_t max_scanned = max_entries * 4 + 1024;
  DirectoryListing listing;
  size_t scanned = 0;
  errno = 0;
  while (const dirent* item = readdir(dir)) {
    if (++scanned > max_scanned) {
      listing.truncated = true;
      break;
    }
    if (item->d_name[0] == '.') continue;  // dot-files, "." and ".."
    DirectoryEntry entry;
    if (!describe(root_fd, dirfd(dir), relative, item->d_name, entry)) continue;
    if (listing.entries.size() == max_entries) {
      listing.truncated = true;
      break;
    }
    listing.entries.push_back(std::move(entry));
  }
  closedir(dir);
  std::sort(listing.entries.begin(), listing.entries.end(),
            [](const DirectoryEntry& a, const DirectoryEntry& b) {
              if (a.is_directory != b.is_directory) return a.is_directory;
              return a.name < b.name;
            });
  return listing;
}

bool is_directory_beneath(int root_fd, const std::string& relative) {
  const int fd = open_beneath_flags(root_fd, relative, O_PATH | O_DIRECTORY);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

std::string render_directory_listing(std::string_view display_path, const DirectoryListing& listing,
                                     bool has_parent) {
  std::string out;
  out.reserve(512 + listing.entries.size() * 160);
  out += "<!doctype html>\n<html><head><meta charset=\"utf-8\">\n<title>Index of ";
  append_html_escaped(out, display_path);
  out +=
      "</title>\n<style>body{font-family:sans-serif;margin:2em}td,th{padding:.15em 1.5em .15em "
      "0;text-align:left}td.size{text-align:right;font-variant-numeric:tabular-nums}</style>\n"
      "</head><body>\n<h1>Index of ";
  append_html_escaped(out, display_path);
  out += "</h1>\n<table>\n<tr><th>Name</th><th>Size (bytes)</th><th>Modified (UTC)</th></tr>\n";
  if (has_parent) out += "<tr><td><a href=\"../\">../</a></td><td></td><td></td></tr>\n";
  for (const DirectoryEntry& entry : listing.entries) {
    out += "<tr><td><a href=\"";
    append_percent_encoded(out, entry.name);
    if (entry.is_directory) out.push_back('/');
    out += "\">";
    append_html_escaped(out, entry.name);
    if (entry.is_directory) out.push_back('/');
    out += "</a></td><td class=\"size\">";
    out += entry.is_directory ? std::string("-") : std::to_string(entry.size);
    out += "</td><td>";
    out += format_utc(entry.mtime_s);
    out += "</td></tr>\n";
  }
  out += "</table>\n";
  if (listing.truncated) {
    out +=
        fmt::format("<p>Only the first {} entries read are listed.</p>\n", listing.entries.size());
  }
  out += "</body></html>\n";
  return out;
}

}  // namespace cascade::vod
