// Fuzzes the MP4 index parser and the clip builder on what it accepts.
//
// Input: one mode byte, then the data. Mode bit 0 clear: the data is a moov
// box, parsed with parse_mp4_moov against a 1 MiB file. Set: the data is a
// whole file, walked by scan_mp4 over an in-memory source and indexed by
// read_mp4_index. Every index that parses is clipped at a few times derived
// from the mode byte, and each clip's head (its pieces put together: written
// bytes and slices of the file's own tables) must parse again as a valid
// moov with the kept sample count (the clip builder's own consistency).
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/byte_order.h"
#include "media/mp4_clip.h"
#include "media/mp4_index.h"

namespace {

using cascade::media::Mp4Clip;
using cascade::media::Mp4ClipRequest;
using cascade::media::Mp4Index;

// The clip's head put together from its pieces; every piece must lie inside
// the written bytes or the file.
std::vector<uint8_t> assemble_head(const Mp4Clip& clip, std::span<const uint8_t> file) {
  std::vector<uint8_t> head;
  for (const auto& piece : clip.head_pieces) {
    const std::span<const uint8_t> from = piece.from_file ? file : clip.head.span();
    if (piece.length == 0 || piece.offset > from.size() ||
        piece.length > from.size() - piece.offset) {
      __builtin_trap();
    }
    head.insert(head.end(), from.begin() + piece.offset, from.begin() + piece.offset + piece.length);
  }
  if (head.size() != clip.head_size) __builtin_trap();
  return head;
}

// The moov inside a clip head (ftyp, moov, mdat header).
std::span<const uint8_t> clip_moov(std::span<const uint8_t> head) {
  if (head.size() < 8) __builtin_trap();
  const size_t ftyp = cascade::load_u32be(head.data());
  if (ftyp + 8 > head.size()) __builtin_trap();
  const size_t moov = cascade::load_u32be(head.data() + ftyp);
  if (ftyp + moov > head.size()) __builtin_trap();
  return head.subspan(ftyp, moov);
}

// `file`: the bytes the index was read from (empty: parsed from a moov).
void clip_and_check(const Mp4Index& index, uint8_t mode, std::span<const uint8_t> file) {
  double duration =
      index.movie_timescale ? double(index.movie_duration) / index.movie_timescale : 0;
  if (!(duration < 1e6)) duration = 1e6;
  const double starts[] = {0, duration * (mode >> 4) / 16.0};
  for (double start : starts) {
    Mp4ClipRequest request;
    request.start_s = start;
    request.exact_start = (mode & 2) != 0;
    request.min_table_from_file = 0;  // every table the file holds comes from it
    if (mode & 4) request.end_s = start + 1 + duration * ((mode >> 3) & 1) / 2;
    auto clip = cascade::media::build_mp4_clip(index, request);
    if (!clip.ok()) continue;
    uint64_t media = 0;
    for (const auto& range : clip->ranges) {
      if (range.length == 0 || range.offset + range.length > index.file_size) __builtin_trap();
      media += range.length;
    }
    if (clip->total_size != clip->head_size + media) __builtin_trap();
    const std::vector<uint8_t> head = assemble_head(*clip, file);
    auto again = cascade::media::parse_mp4_moov(clip_moov(head), clip->total_size);
    if (!again.ok() || again->tracks.empty()) __builtin_trap();
    if (again->total_samples() > index.total_samples()) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  const std::span<const uint8_t> bytes(data + 1, size - 1);
  cascade::media::Mp4Limits limits;
  limits.max_samples_per_track = 100'000;  // keep each run fast
  limits.max_total_samples = 200'000;
  if ((mode & 1) == 0) {
    auto index = cascade::media::parse_mp4_moov(bytes, 1 << 20, limits);
    if (index.ok()) clip_and_check(*index, mode, {});
    return 0;
  }
  cascade::media::Mp4MemorySource source(bytes);
  auto layout = cascade::media::scan_mp4(source, limits);
  if (!layout.ok()) return 0;
  if (layout->moov && layout->moov->end() > bytes.size()) __builtin_trap();
  for (const auto& mdat : layout->mdats) {
    if (mdat.end() > bytes.size() || mdat.size < mdat.header_size) __builtin_trap();
  }
  auto index = cascade::media::read_mp4_index(source, *layout, limits);
  if (index.ok()) clip_and_check(*index, mode, bytes);
  return 0;
}
