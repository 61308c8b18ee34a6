// The muxers' track configs (av_sample.h) from an MP4 track's sample
// description (ISO/IEC 14496-12 8.5.2 stsd), so MP4 samples can be muxed
// into MPEG-TS and fMP4 without transcoding:
//   video 'avc1'/'avc3' + 'avcC' (14496-15 5.4.2), 'hvc1'/'hev1' + 'hvcC'
//         (14496-15 8.4.1): the record must carry the parameter sets;
//   audio 'mp4a' + 'esds' (14496-14 5.6; inside a QuickTime 'wave' box too)
//         with AAC (objectTypeIndication 0x40, 0x66-0x68) or MPEG-1/2 audio
//         (0x6B, 0x69), and QuickTime '.mp3'. MPEG audio is taken to be
//         Layer III (the sample entry does not say which layer).
// Only the first sample description is used; a track whose chunks use
// another one is refused.
//
// Untrusted input: the stsd bytes come from the file; every length is
// checked and every failure is an Error naming the problem.
#pragma once

#include "core/result.h"
#include "media/av_sample.h"
#include "media/mp4_index.h"

namespace cascade::media {

// Errors: an unsupported codec (named by its sample entry type), a
// malformed sample entry or decoder configuration, a record without SPS/PPS
// (HEVC: VPS/SPS/PPS), AAC that ADTS cannot describe (a program config
// element, an explicit frequency).
Result<VideoTrackConfig> mp4_video_track_config(const Mp4Track& track);
Result<AudioTrackConfig> mp4_audio_track_config(const Mp4Track& track);

}  // namespace cascade::media
