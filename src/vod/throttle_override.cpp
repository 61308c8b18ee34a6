#include "vod/throttle_override.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstdlib>

#include "core/query_string.h"
#include "core/url_signature.h"

namespace cascade::vod {
namespace {

struct Parameter {
  std::optional<std::string_view> value;
  const char* name;

  Status take(std::string_view given) {
    if (value) return make_error("{} given twice", name);
    value = given;
    return {};
  }
};

// 0, or a plain decimal in [0.1, 100] ("1.5", "2"; no sign, exponent or
// percent-escape).
std::optional<double> parse_rate(std::string_view text) {
  if (text.empty() || text.size() > 16) return std::nullopt;
  for (char c : text) {
    if ((c < '0' || c > '9') && c != '.') return std::nullopt;
  }
  const std::string copy(text);
  char* end = nullptr;
  const double value = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || !std::isfinite(value)) return std::nullopt;
  if (value != 0 && (value < 0.1 || value > 100)) return std::nullopt;
  return value;
}

std::optional<int64_t> parse_unix_time(std::string_view text) {
  if (text.empty() || text.size() > 12) return std::nullopt;  // past year 30,000
  int64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

}  // namespace

std::string throttle_override_message(std::string_view url_path, std::string_view rate,
                                      std::string_view expires) {
  return fmt::format("cascade-vod-rate\n{}\n{}\n{}", url_path, rate, expires);
}

Result<std::optional<double>> verify_throttle_override(std::string_view url_path,
                                                       std::string_view query,
                                                       std::string_view secret,
                                                       int64_t now_unix_s) {
  Parameter rate{std::nullopt, "rate"}, expires{std::nullopt, "expires"}, sig{std::nullopt, "sig"};
  while (const std::optional<QueryParameter> parameter = next_query_parameter(query)) {
    const std::string_view name = parameter->name;
    const std::string_view value = parameter->value;
    Parameter* target = name == "rate"      ? &rate
                        : name == "expires" ? &expires
                        : name == "sig"     ? &sig
                                            : nullptr;
    if (!target) continue;
    if (auto taken = target->take(value); !taken) return taken.error();
  }
  if (!rate.value && !expires.value && !sig.value) return std::optional<double>{};
  if (secret.empty()) return make_error("rate overrides are not enabled here");
  if (!rate.value || !expires.value || !sig.value) {
    return make_error("a rate override needs rate, expires and sig (a signed URL)");
  }
  const std::optional<double> factor = parse_rate(*rate.value);
  if (!factor) return make_error("rate must be 0 or a number from 0.1 to 100");
  const std::optional<int64_t> deadline = parse_unix_time(*expires.value);
  if (!deadline) return make_error("expires must be a Unix time in seconds");
  const std::string message = throttle_override_message(url_path, *rate.value, *expires.value);
  if (!verify_message(secret, message, *sig.value)) return make_error("bad signature");
  if (*deadline < now_unix_s) return make_error("the signed URL has expired");
  return std::optional<double>(*factor);
}

}  // namespace cascade::vod
