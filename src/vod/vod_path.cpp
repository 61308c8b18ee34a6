#include "vod/vod_path.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/percent_encoding.h"

namespace cascade::vod {

Result<std::string> relative_path_from_url(std::string_view url_path) {
  if (url_path.empty()) return make_error("empty path");
  if (url_path.size() > 4096) return make_error("path too long");
  std::string out;
  if (!percent_decode(url_path, out)) return make_error("bad percent-escape or NUL in path");
  if (out.find('\\') != std::string::npos) return make_error("backslash in path");
  if (out.empty()) return make_error("empty path");
  if (out.front() == '/') return make_error("absolute path");
  // Every segment is a plain name: no empty, "." or ".." segment, decoded.
  size_t start = 0;
  while (start <= out.size()) {
    size_t slash = out.find('/', start);
    if (slash == std::string::npos) slash = out.size();
    std::string_view segment(out.data() + start, slash - start);
    if (segment.empty() || segment == "." || segment == "..") {
      return make_error("bad path segment");
    }
    start = slash + 1;
  }
  return out;
}

std::variant<OpenedFile, OpenError> open_beneath(int root_fd, const std::string& relative) {
  open_how how{};
  how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
  // RESOLVE_BENEATH: no component, symlinks included, may leave the root.
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  int fd = static_cast<int>(syscall(SYS_openat2, root_fd, relative.c_str(), &how, sizeof how));
  if (fd < 0) {
    const int error = errno;
    OpenError e;
    e.not_found = error == ENOENT || error == ENOTDIR;
    e.message = error == EXDEV ? "path leaves the root" : std::strerror(error);
    return e;
  }
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    const bool is_dir = S_ISDIR(st.st_mode);
    ::close(fd);
    return OpenError{is_dir, is_dir ? "a directory" : "not a regular file"};
  }
  // Back to blocking reads (O_NONBLOCK only kept a FIFO from blocking open).
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  return OpenedFile{fd,
                    static_cast<uint64_t>(st.st_size),
                    static_cast<int64_t>(st.st_mtim.tv_sec),
                    static_cast<uint64_t>(st.st_ino),
                    static_cast<uint64_t>(st.st_dev),
                    static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 +
                        static_cast<int64_t>(st.st_mtim.tv_nsec)};
}

}  // namespace cascade::vod
