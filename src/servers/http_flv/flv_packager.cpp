#include "servers/http_flv/flv_packager.h"

#include <cstring>

#include "core/byte_writer.h"
#include "media/flv.h"

namespace cascade::servers {
namespace {

class FlvPackager final : public live::Packager {
 public:
  SharedBytes package(const media::Frame& frame) override {
    uint8_t type = frame.kind == media::TrackKind::kAudio   ? flv::kTagAudio
                   : frame.kind == media::TrackKind::kVideo ? flv::kTagVideo
                                                            : flv::kTagScript;
    const size_t body = frame.payload.size();
    MutableBytes tag(flv::kTagHeaderSize + body + 4);
    tag.resize(tag.capacity());
    // FLV timestamps are 32-bit milliseconds (24 bits + TimestampExtended).
    flv::write_tag_header(tag.data(), type, static_cast<uint32_t>(body),
                          static_cast<uint32_t>(frame.dts));
    if (body) std::memcpy(tag.data() + flv::kTagHeaderSize, frame.payload.data(), body);
    store_u32be(tag.data() + flv::kTagHeaderSize + body,
                static_cast<uint32_t>(flv::kTagHeaderSize + body));
    return std::move(tag).freeze();
  }
};

}  // namespace

std::unique_ptr<live::Packager> make_flv_packager() { return std::make_unique<FlvPackager>(); }

}  // namespace cascade::servers
