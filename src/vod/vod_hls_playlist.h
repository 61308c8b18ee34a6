// The playlists of an on-demand MP4 served as HLS (vod_hls_path.h), rendered
// from its VodHlsPlan. Pure: the same plan and version give the same text.
//
// Media playlists (RFC 8216 4.3.3, 4.3.2): EXT-X-PLAYLIST-TYPE:VOD and
// EXT-X-ENDLIST; EXT-X-MEDIA-SEQUENCE 0; EXTINF the segment's exact
// duration on the plan's millisecond timeline (3 decimals, as live);
// EXT-X-TARGETDURATION the longest EXTINF rounded up (4.3.3.1);
// EXT-X-INDEPENDENT-SEGMENTS (4.3.5.1) only when every segment starts
// with a keyframe; fMP4 with EXT-X-MAP (version 6), MPEG-TS version 3.
// Segment and init URIs are relative and carry ?v={version}, which names
// the file's version (vod_hls.h), so they can be cached as immutable.
//
// Master playlist (4.3.4.2), rendered by protocols/hls/master_playlist.h:
// the fMP4 playlist, then the MPEG-TS one, the same content in two
// containers, so both variants carry identical attributes (players treat the
// second as a redundant fallback, never as a rendition to switch to):
// BANDWIDTH the peak segment bit rate, AVERAGE-BANDWIDTH the mean, of the
// larger (MPEG-TS) container; CODECS; RESOLUTION and FRAME-RATE with video.
#pragma once

#include <string>
#include <string_view>

#include "vod/vod_hls_plan.h"

namespace cascade::vod {

enum class VodHlsContainer : uint8_t { kFmp4, kTs };

std::string render_vod_media_playlist(const VodHlsPlan& plan, VodHlsContainer container,
                                      std::string_view version);

std::string render_vod_master_playlist(const VodHlsPlan& plan);

}  // namespace cascade::vod
