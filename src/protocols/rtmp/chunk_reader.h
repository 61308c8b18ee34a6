// ChunkReader: reassembles RTMP messages from the chunk stream (RTMP spec 5.3),
// sans-I/O.
//
// Contract: feed() parses as many whole chunk headers as the bytes allow and
// copies chunk payload into per-chunk-stream message buffers; it returns the
// number of bytes consumed. Unconsumed bytes (a header split across reads)
// stay with the caller, who feeds them again with more data. Completed
// messages are appended to the caller's vector in arrival order.
//
// Set Chunk Size (5.4.1) and Abort (5.4.2) change how the following bytes are
// parsed, so the reader applies them itself (and still reports them).
//
// Hostile input is bounded: a chunk size or message length above
// max_message_size, too many chunk streams, or too many bytes held in
// partial messages is an error; nothing is allocated that the peer has not
// sent except the message buffer of a declared length, which is bounded.
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "core/shared_bytes.h"
#include "protocols/rtmp/message.h"

namespace cascade::rtmp {

struct ChunkReaderLimits {
  uint32_t max_message_size = 16 * 1024 * 1024;
  // Partial messages on distinct chunk streams held at once.
  uint32_t max_chunk_streams = 64;
  // Sum of declared lengths of messages being reassembled.
  uint64_t max_pending_bytes = 32 * 1024 * 1024;
};

class ChunkReader {
 public:
  explicit ChunkReader(ChunkReaderLimits limits = {});

  Result<size_t> feed(std::span<const uint8_t> bytes, std::vector<Message>& out);

  uint32_t chunk_size() const { return chunk_size_; }
  // Every byte consumed so far (RTMP spec 5.4.3 counts bytes received).
  uint64_t bytes_consumed() const { return bytes_consumed_; }

 private:
  struct ChunkStream {
    uint32_t timestamp = 0;        // absolute timestamp of the current message
    uint32_t timestamp_delta = 0;  // last header's timestamp field (5.3.1.2.4)
    uint32_t length = 0;
    uint32_t stream_id = 0;
    uint8_t type_id = 0;
    bool has_header = false;             // a type 0 header has been seen
    bool extended_timestamp = false;     // last type 0/1/2 header used 0xFFFFFF
    uint32_t extended_timestamp_value = 0;
    MutableBytes partial;                // message being reassembled
    bool in_message = false;
  };

  Status start_message(ChunkStream& cs, uint32_t csid);
  Status apply_control(const Message& message);

  ChunkReaderLimits limits_;
  uint32_t chunk_size_ = kDefaultChunkSize;
  std::unordered_map<uint32_t, ChunkStream> streams_;
  uint64_t pending_bytes_ = 0;
  uint64_t bytes_consumed_ = 0;
  // The chunk whose payload is being read (a payload may span feeds).
  ChunkStream* current_ = nullptr;
  uint32_t current_csid_ = 0;
  uint32_t current_remaining_ = 0;
};

}  // namespace cascade::rtmp
