// Fuzzes FlvDemuxer and checks that it is split-invariant: feeding the input
// at once, or in chunks (sized by the last input byte) the way a file reader
// does it (keeping and re-feeding unconsumed bytes), yields the same tags, the
// same error and the same unconsumed tail. Every tag body is then parsed.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "media/amf0.h"
#include "media/flv.h"

namespace {

using namespace cascade;

struct Outcome {
  std::vector<flv::FlvTag> tags;
  std::optional<std::string> error;
  size_t consumed = 0;
};

void drain(flv::FlvDemuxer& demuxer, Outcome& out) {
  while (auto tag = demuxer.next_tag()) out.tags.push_back(std::move(*tag));
}

Outcome feed_whole(std::span<const uint8_t> data) {
  Outcome out;
  flv::FlvDemuxer demuxer(1 << 20);
  auto consumed = demuxer.feed(data);
  if (consumed.ok()) {
    out.consumed = *consumed;
  } else {
    out.error = consumed.error().message;
  }
  drain(demuxer, out);
  return out;
}

Outcome feed_chunked(std::span<const uint8_t> data, size_t chunk) {
  Outcome out;
  flv::FlvDemuxer demuxer(1 << 20);
  std::vector<uint8_t> pending;
  size_t offset = 0;
  while (offset < data.size()) {
    const size_t n = std::min(chunk, data.size() - offset);
    pending.insert(pending.end(), data.begin() + offset, data.begin() + offset + n);
    offset += n;
    auto consumed = demuxer.feed(pending);
    if (!consumed.ok()) {
      out.error = consumed.error().message;
      break;
    }
    if (*consumed > pending.size()) __builtin_trap();
    out.consumed += *consumed;
    pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(*consumed));
    drain(demuxer, out);
  }
  drain(demuxer, out);
  return out;
}

bool same_tags(const Outcome& a, const Outcome& b) {
  if (a.tags.size() != b.tags.size()) return false;
  for (size_t i = 0; i < a.tags.size(); ++i) {
    const auto& x = a.tags[i];
    const auto& y = b.tags[i];
    if (x.type != y.type || x.timestamp_ms != y.timestamp_ms ||
        !std::ranges::equal(x.body.span(), y.body.span())) {
      return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> input(data, size);
  const Outcome whole = feed_whole(input);
  const size_t chunk = size ? size_t{data[size - 1]} + 1 : 1;
  const Outcome chunked = feed_chunked(input, chunk);
  if (!same_tags(whole, chunked) || whole.error != chunked.error) __builtin_trap();
  if (!whole.error && whole.consumed != chunked.consumed) __builtin_trap();
  for (const flv::FlvTag& tag : whole.tags) {
    switch (tag.type) {
      case flv::kTagVideo:
        (void)flv::parse_video_tag(tag.body.span());
        break;
      case flv::kTagAudio:
        (void)flv::parse_audio_tag(tag.body.span());
        break;
      case flv::kTagScript:
        (void)amf0::decode_all(tag.body.span());
        break;
      default:
        break;
    }
  }
  return 0;
}
