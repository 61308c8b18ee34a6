// RtmpPackager: frames -> RTMP chunks for play, once per stream for all RTMP
// viewers. Every message uses a type 0 first chunk, msid kPlayStreamId and
// the server-wide outgoing chunk size, so the bytes suit every viewer.
#pragma once

#include <memory>

#include "live/packager.h"

namespace cascade::servers {

std::unique_ptr<live::Packager> make_rtmp_packager(uint32_t chunk_size);

}  // namespace cascade::servers
