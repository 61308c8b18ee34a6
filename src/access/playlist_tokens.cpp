#include "access/playlist_tokens.h"

namespace cascade::access {
namespace {

void append_uri(std::string& out, std::string_view uri, std::string_view query) {
  out += uri;
  out.push_back(uri.find('?') == std::string_view::npos ? '?' : '&');
  out += query;
}

// A tag line: each attribute named exactly URI (preceded by ':' or ',')
// with a quoted value gets the query inside its quotes.
void rewrite_tag(std::string& out, std::string_view line, std::string_view query) {
  size_t done = 0;
  size_t at = 0;
  while ((at = line.find("URI=\"", at)) != std::string_view::npos) {
    const bool attribute_start = at > 0 && (line[at - 1] == ':' || line[at - 1] == ',');
    const size_t value_start = at + 5;
    const size_t close = line.find('"', value_start);
    if (close == std::string_view::npos) break;
    if (attribute_start) {
      out.append(line.substr(done, value_start - done));
      append_uri(out, line.substr(value_start, close - value_start), query);
      done = close;
    }
    at = close + 1;
  }
  out.append(line.substr(done));
}

}  // namespace

std::string append_query_to_playlist_uris(std::string_view playlist, std::string_view query) {
  std::string out;
  out.reserve(playlist.size() + playlist.size() / 4);
  size_t start = 0;
  while (start < playlist.size()) {
    size_t end = playlist.find('\n', start);
    const size_t next = end == std::string_view::npos ? playlist.size() : end + 1;
    if (end == std::string_view::npos) end = playlist.size();
    std::string_view line = playlist.substr(start, end - start);
    std::string_view ending = playlist.substr(end, next - end);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
      ending = playlist.substr(end - 1, next - end + 1);
    }
    const size_t first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos) {
      out.append(line);
    } else if (line[first] == '#') {
      // RFC 8216bis 4.1: tags start with "#EXT"; other '#' lines are comments.
      if (line.substr(first).starts_with("#EXT")) {
        rewrite_tag(out, line, query);
      } else {
        out.append(line);
      }
    } else {
      append_uri(out, line, query);
    }
    out.append(ending);
    start = next;
  }
  return out;
}

}  // namespace cascade::access
