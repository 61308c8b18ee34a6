#include "servers/rtmp/rtmp_packager.h"

#include "protocols/rtmp/chunk_writer.h"
#include "protocols/rtmp/message.h"

namespace cascade::servers {
namespace {

class RtmpPackager final : public live::Packager {
 public:
  explicit RtmpPackager(uint32_t chunk_size) : chunk_size_(chunk_size) {}

  SharedBytes package(const media::Frame& frame) override {
    rtmp::MessageHeader header;
    header.stream_id = rtmp::kPlayStreamId;
    // RTMP timestamps are 32-bit milliseconds and wrap (RTMP spec 5.3.1.2.1).
    header.timestamp = static_cast<uint32_t>(frame.dts);
    switch (frame.kind) {
      case media::TrackKind::kAudio:
        header.type_id = static_cast<uint8_t>(rtmp::MessageType::kAudio);
        header.csid = rtmp::kCsidAudio;
        break;
      case media::TrackKind::kVideo:
        header.type_id = static_cast<uint8_t>(rtmp::MessageType::kVideo);
        header.csid = rtmp::kCsidVideo;
        break;
      case media::TrackKind::kData:
        header.type_id = static_cast<uint8_t>(rtmp::MessageType::kDataAmf0);
        header.csid = rtmp::kCsidData;
        break;
    }
    return rtmp::chunk_message(header, frame.payload.span(), chunk_size_);
  }

 private:
  uint32_t chunk_size_;
};

}  // namespace

std::unique_ptr<live::Packager> make_rtmp_packager(uint32_t chunk_size) {
  return std::make_unique<RtmpPackager>(chunk_size);
}

}  // namespace cascade::servers
