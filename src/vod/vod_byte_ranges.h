// Answers with the whole file or the byte range asked for (RFC 9110 14:
// Range, If-Range, 206, 416), the body sent by sendfile.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <span>

#include "media/mp4_clip.h"
#include "vod/vod_file_request.h"

namespace cascade::vod {

boost::asio::awaitable<net::HttpOutcome> answer_whole_or_range(VodFileRequest& r);

// Answers with a body made of `head` (new bytes: a rebuilt MP4 moov, FLV
// header and sequence headers) then `ranges` of the file, in order (a seek
// clip): r.header as it is plus Content-Length; nothing more for HEAD. The
// body is paced like the file's (r.pacer; the head counts against the burst).
boost::asio::awaitable<net::HttpOutcome> answer_head_and_ranges(
    VodFileRequest& r, std::span<const uint8_t> head, std::span<const media::FileRange> ranges);

// The same for an MP4 clip, whose head is pieces of clip.head and of the file
// (media/mp4_clip.h): each memory piece written, each file piece and then
// each media range sent by sendfile.
boost::asio::awaitable<net::HttpOutcome> answer_mp4_clip(VodFileRequest& r,
                                                         const media::Mp4Clip& clip);

}  // namespace cascade::vod
