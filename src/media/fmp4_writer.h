// fMP4/CMAF writer: the init segment (ftyp + moov) and media fragments
// (moof + mdat) that HLS (RFC 8216bis 3.1.2, EXT-X-MAP) and LL-HLS parts are
// made of. Pure functions: same input, same bytes; no state between calls
// and callable from any thread, so one packager per stream calls them once and every viewer shares
// the resulting SharedBytes.
//
// Layout (ISO/IEC 14496-12; CMAF, ISO/IEC 23000-19, header + fragments):
//   init:     ftyp, moov { mvhd, trak per track (empty sample tables), mvex { trex per track } }
//   fragment: moof { mfhd, traf per track with samples { tfhd, tfdt, trun } }, mdat
// Track IDs: video 1, audio 2 (audio is 1 when there is no video).
// Timescales: movie 1000, video 90000, audio the sample rate.
#pragma once

#include <cstdint>
#include <span>

#include "core/shared_bytes.h"
#include "core/time.h"
#include "media/av_sample.h"

namespace cascade::media {

inline constexpr uint32_t kFmp4MovieTimescale = 1000;
inline constexpr uint32_t kFmp4VideoTimescale = 90000;

// The track_ID of each track of `tracks` in the init segment and fragments.
inline constexpr uint32_t kFmp4VideoTrackId = 1;
inline uint32_t fmp4_audio_track_id(const TrackSet& tracks) {
  return tracks.video ? 2 : 1;
}

// ftyp + moov for `tracks` (live: every duration 0, empty sample tables,
// mvex with one trex per track). Sample entries: 'avc1'+'avcC', 'hvc1'+'hvcC'
// (records verbatim), 'mp4a'+'esds' for AAC and MP3.
// Returns empty SharedBytes if `tracks` has no track.
SharedBytes write_fmp4_init_segment(const TrackSet& tracks);

struct Fmp4FragmentInput {
  uint32_t sequence_number = 1;     // mfhd; the caller increments per fragment
  std::span<const AvSample> video;  // decode order; may be empty
  // Decode time right after the last video sample: the end of its duration.
  MediaTimeMs video_end_dts = 0;
  std::span<const AvSample> audio;  // decode order; may be empty
};

// One fragment: moof (mfhd, one traf per track that has samples: tfhd with
// default-base-is-moof, tfdt version 1, trun version 1 with data_offset and
// per-sample duration/size/flags, plus composition offsets for video) and one
// mdat holding the video samples then the audio samples.
//
// Timing: video durations are the dts differences in 90 kHz (the last one
// runs to video_end_dts); audio durations are samples_per_frame each. tfdt
// is the first sample's dts in the track timescale (audio rounded to the
// nearest sample), so each fragment re-anchors on the ms timeline: durations
// that would be negative (dts going backwards) are written as 0, as is a
// negative tfdt.
//
// Preconditions: samples are only given for tracks present in `tracks`
// (others are ignored); audio sample_rate > 0.
// Returns empty SharedBytes if there are no samples at all, or if the
// fragment would reach 2 GiB (trun data_offset is a signed 32-bit field and
// box sizes are 32-bit; fragments are seconds long, so that is a caller bug
// and asserts in debug builds).
SharedBytes write_fmp4_fragment(const TrackSet& tracks, const Fmp4FragmentInput& input);

}  // namespace cascade::media
