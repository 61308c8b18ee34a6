// Fuzzes the RTMP chunk reader: arbitrary bytes, whole and in pieces, must
// give the same messages or the same error, and never exceed the limits.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "protocols/rtmp/chunk_reader.h"

using cascade::rtmp::ChunkReader;
using cascade::rtmp::ChunkReaderLimits;
using cascade::rtmp::Message;

namespace {

struct Outcome {
  std::vector<Message> messages;
  bool failed = false;
  size_t consumed = 0;
};

Outcome run(const uint8_t* data, size_t size, size_t piece) {
  ChunkReaderLimits limits;
  limits.max_message_size = 1 << 16;
  limits.max_pending_bytes = 1 << 18;
  limits.max_chunk_streams = 16;
  ChunkReader reader(limits);
  Outcome out;
  std::vector<uint8_t> pending;
  for (size_t pos = 0; pos < size; pos += piece) {
    size_t n = std::min(piece, size - pos);
    pending.insert(pending.end(), data + pos, data + pos + n);
    auto consumed = reader.feed(pending, out.messages);
    if (!consumed) {
      out.failed = true;
      return out;
    }
    out.consumed += *consumed;
    pending.erase(pending.begin(), pending.begin() + static_cast<long>(*consumed));
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Outcome whole = run(data, size, size ? size : 1);
  Outcome pieces = run(data, size, 7);
  if (whole.failed != pieces.failed) std::abort();
  if (!whole.failed) {
    if (whole.consumed != pieces.consumed || whole.messages.size() != pieces.messages.size()) {
      std::abort();
    }
    for (size_t i = 0; i < whole.messages.size(); ++i) {
      const Message& a = whole.messages[i];
      const Message& b = pieces.messages[i];
      if (a.type_id != b.type_id || a.timestamp != b.timestamp || a.payload.size() != b.payload.size()) {
        std::abort();
      }
      if (a.payload.size() > (1u << 16)) std::abort();
    }
  }
  return 0;
}
