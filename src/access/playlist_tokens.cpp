#include "access/playlist_tokens.h"

#include "core/query_string.h"

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

bool safe_in_playlist(std::string_view text) {
  for (char c : text) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    std::string_view("-._~%!$'()*+,;=:@/?").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::string playlist_carried_query(std::string_view query) {
  std::string out;
  while (auto p = next_query_parameter(query)) {
    if (p->name.empty() || p->name.starts_with("_HLS_")) continue;
    if (!safe_in_playlist(p->name) || !safe_in_playlist(p->value)) continue;
    const size_t size = p->name.size() + 1 + p->value.size() + (out.empty() ? 0 : 1);
    if (out.size() + size > kMaxCarriedQuery) continue;
    if (!out.empty()) out.push_back('&');
    out.append(p->name);
    out.push_back('=');
    out.append(p->value);
  }
  return out;
}

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
