// Fuzzes FlvDemuxer the way a file reader drives it: bytes arrive in chunks
// (the chunk size comes from the first input byte), the caller keeps what was
// not consumed and feeds it again. Every tag body is then parsed.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "media/amf0.h"
#include "media/flv.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace cascade;
  if (size == 0) return 0;
  const size_t chunk = size_t{data[0]} + 1;
  ++data;
  --size;
  flv::FlvDemuxer demuxer(1 << 20);
  std::vector<uint8_t> pending;
  size_t offset = 0;
  while (offset < size) {
    const size_t n = std::min(chunk, size - offset);
    pending.insert(pending.end(), data + offset, data + offset + n);
    offset += n;
    auto consumed = demuxer.feed(pending);
    if (!consumed.ok()) break;
    if (*consumed > pending.size()) __builtin_trap();
    pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(*consumed));
  }
  while (auto tag = demuxer.next_tag()) {
    switch (tag->type) {
      case flv::kTagVideo:
        (void)flv::parse_video_tag(tag->body.span());
        break;
      case flv::kTagAudio:
        (void)flv::parse_audio_tag(tag->body.span());
        break;
      case flv::kTagScript:
        (void)amf0::decode_all(tag->body.span());
        break;
      default:
        break;
    }
  }
  return 0;
}
