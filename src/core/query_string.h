// Walking a URL query (RFC 3986 3.4) as name=value pairs separated by '&'.
// Nothing is percent-decoded: callers decode what they accept.
#pragma once

#include <optional>
#include <string_view>

namespace cascade {

struct QueryParameter {
  std::string_view name;
  std::string_view value;  // empty when the pair has no '='
};

// Takes the first pair off `query` (which then holds the rest); nullopt
// when `query` is empty. An empty pair ("a&&b") has an empty name.
//   while (auto p = next_query_parameter(query)) { ... p->name, p->value ... }
inline std::optional<QueryParameter> next_query_parameter(std::string_view& query) {
  if (query.empty()) return std::nullopt;
  const size_t amp = query.find('&');
  const std::string_view pair = query.substr(0, amp);
  query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
  const size_t eq = pair.find('=');
  return QueryParameter{pair.substr(0, eq),
                        eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1)};
}

// The value of the first pair named `name`, if any.
inline std::optional<std::string_view> query_value(std::string_view query, std::string_view name) {
  while (auto parameter = next_query_parameter(query)) {
    if (parameter->name == name) return parameter->value;
  }
  return std::nullopt;
}

}  // namespace cascade
