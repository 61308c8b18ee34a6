// HLS from on-demand MP4 files, cut and muxed on request without
// transcoding (what nginx-vod-module does). URLs (vod_hls_path.h):
//
//   /vod/{file}/master.m3u8               master playlist: both variants below
//   /vod/{file}/index.m3u8                fMP4/CMAF media playlist
//   /vod/{file}/init.mp4                  its init section
//   /vod/{file}/s{n}.m4s                  fMP4 segment n
//   /vod/{file}/ts.m3u8                   MPEG-TS media playlist
//   /vod/{file}/s{n}.ts                   MPEG-TS segment n
//
// {file} is a progressive MP4-family file (.mp4 .m4v .m4a .mov .3gp). Its
// first video track (H.264 or HEVC) and first audio track (AAC or MP3) are
// served; segments start at video keyframes near vod.hls_segment_s
// (media/mp4_segment_plan.h). Segment n holds the same samples in both
// containers, so the two playlists align. Samples are read with pread from
// the file's parsed index (mp4_index_cache.h) and muxed per request
// (media/mpegts_muxer.h, media/fmp4_writer.h); the segment plan is computed
// once per file version and kept next to its index (vod_hls_plan_cache.h).
//
// Caching: every resource has the ETag "{version}", where the version names
// the file (inode, size, mtime) and the segment target, and the file's
// Last-Modified; conditional requests get 304. Playlists list init and
// segment URIs with ?v={version}: those answer with Cache-Control
// "public, max-age=31536000, immutable", or 404 when the file has changed
// since (the bytes they named are gone); without ?v= the route's
// Cache-Control. Content types as live HLS: application/vnd.apple.mpegurl,
// video/mp4 (init), video/iso.segment, video/mp2t.
//
// Errors: a segment number past the end 404; a fragmented MP4 (no sample
// tables), a file that cannot be indexed, codecs the muxers cannot carry,
// and a segment holding more than VodSettings::hls_max_segment_bytes of
// samples (64 MiB) or hls_max_segment_samples samples (100,000) 422, each
// with a log line: what one request may make the server hold is bounded.
//
// Runs on the connection's worker: the index parse (first request for a
// file) and the segment reads block it like the MP4 seek does (README "VOD").
#pragma once

#include <boost/asio/awaitable.hpp>
#include <string>

#include "core/time.h"
#include "net/http_server.h"
#include "net/io_pool.h"
#include "vod/vod_caches.h"
#include "vod/vod_file_request.h"
#include "vod/vod_hls_path.h"

namespace cascade::vod {

// The version string of a file for HLS (ETags and ?v=).
std::string vod_hls_version(const OpenedFile& file, MediaTimeMs segment_target_ms);

// Answers `target` for the open file of `r`, from the shared parsed-index
// and plan caches. The route has resolved and opened the file; r.header is
// not used (each answer builds its own) and the body is not paced (a
// segment is small and players fetch them ahead anyway).
// A segment's samples are read (pread) and muxed on `io`.
boost::asio::awaitable<net::HttpOutcome> answer_vod_hls(VodFileRequest& r,
                                                        const VodHlsTarget& target,
                                                        VodCaches& caches, net::IoPool& io);

}  // namespace cascade::vod
