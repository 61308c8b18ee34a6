#include "media/mp4_index.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <utility>

#include "core/byte_order.h"
#include "core/byte_reader.h"
#include "media/mp4_box_writer.h"

namespace cascade::media {

namespace {

// A box type for messages: its four characters, '?' for unprintable ones.
std::string fourcc_name(uint32_t type) {
  std::string name(4, '?');
  for (int i = 0; i < 4; ++i) {
    const char c = static_cast<char>(type >> (24 - 8 * i));
    if (c >= 0x20 && c < 0x7F) name[i] = c;
  }
  return name;
}

// One box inside a parent's payload.
struct Box {
  uint32_t type = 0;
  std::span<const uint8_t> whole;    // header included
  std::span<const uint8_t> payload;  // after the (large)size and type
};

// 14496-12 4.2: calls f(box) for each box in `bytes`, in order. A size of 0
// runs to the end of `bytes`; 1 means a 64-bit largesize follows. Every box
// advances by at least its header, so the walk ends.
template <typename F>
Status for_each_box(std::span<const uint8_t> bytes, F&& f) {
  size_t pos = 0;
  while (pos < bytes.size()) {
    ByteReader r(bytes.subspan(pos));
    uint64_t size = r.u32be();
    const uint32_t type = r.u32be();
    size_t header = 8;
    if (size == 1) {
      size = r.u64be();
      header = 16;
    } else if (size == 0) {
      size = bytes.size() - pos;
    }
    if (!r.ok()) return make_error("truncated box header ({} bytes left)", bytes.size() - pos);
    if (size < header) {
      return make_error("box '{}' size {} is smaller than its header", fourcc_name(type), size);
    }
    if (size > bytes.size() - pos) {
      return make_error("box '{}' size {} runs past its parent ({} bytes left)", fourcc_name(type),
                        size, bytes.size() - pos);
    }
    const auto whole = bytes.subspan(pos, size);
    if (Status s = f(Box{type, whole, whole.subspan(header)}); !s.ok()) return s;
    pos += size;
  }
  return ok_status();
}

// Keeps the one box of a type; a second is an error.
Status take_once(std::optional<Box>& slot, const Box& box) {
  if (slot) return make_error("duplicate '{}' box", fourcc_name(box.type));
  slot = box;
  return ok_status();
}

// A FullBox (14496-12 4.2) payload: version, flags, then the rest.
struct FullBox {
  uint8_t version = 0;
  uint32_t flags = 0;
  ByteReader body{{}};
};

Result<FullBox> full_box(const Box& box) {
  ByteReader r(box.payload);
  FullBox out;
  out.version = r.u8();
  out.flags = r.u24be();
  if (!r.ok()) return make_error("truncated '{}' box", fourcc_name(box.type));
  out.body = ByteReader(r.rest());
  return out;
}

// Checks that a table of `count` entries of `entry_size` bytes fits in what
// is left of its box, before anything is allocated for it.
Status check_table(const char* name, uint64_t count, size_t entry_size, const ByteReader& r) {
  if (count > r.remaining() / entry_size) {
    return make_error("{} entry_count {} does not fit in its box ({} bytes)", name, count,
                      r.remaining());
  }
  return ok_status();
}

// A copy of a box with a plain 8-byte header (the original may use size 0,
// "to the end of the parent", or a largesize, neither of which survives being
// moved into another parent). Boxes in a moov are under 4 GiB
// (Mp4Limits::max_moov_size), so the size fits.
std::vector<uint8_t> copy_box(const std::optional<Box>& box) {
  if (!box) return {};
  std::vector<uint8_t> out(8 + box->payload.size());
  store_u32be(out.data(), static_cast<uint32_t>(out.size()));
  store_u32be(out.data() + 4, box->type);
  std::copy(box->payload.begin(), box->payload.end(), out.begin() + 8);
  return out;
}

// The stbl boxes a track's sample table is built from.
struct SampleTableBoxes {
  std::optional<Box> stsd, stts, ctts, stss, stsc, stsz, stz2, stco, co64, sdtp;
};

Status collect_stbl(std::span<const uint8_t> stbl, SampleTableBoxes& t) {
  return for_each_box(stbl, [&](const Box& box) -> Status {
    switch (box.type) {
      case box_type("stsd"):
        return take_once(t.stsd, box);
      case box_type("stts"):
        return take_once(t.stts, box);
      case box_type("ctts"):
        return take_once(t.ctts, box);
      case box_type("stss"):
        return take_once(t.stss, box);
      case box_type("stsc"):
        return take_once(t.stsc, box);
      case box_type("stsz"):
        return take_once(t.stsz, box);
      case box_type("stz2"):
        return take_once(t.stz2, box);
      case box_type("stco"):
        return take_once(t.stco, box);
      case box_type("co64"):
        return take_once(t.co64, box);
      case box_type("sdtp"):
        return take_once(t.sdtp, box);
      default:
        return ok_status();
    }
  });
}

// 14496-12 8.7.3 stsz / stz2: the sample count and sizes.
Status parse_sample_sizes(const SampleTableBoxes& t, Mp4Track& track, uint64_t file_size,
                          const Mp4Limits& limits, uint64_t& total_samples) {
  if (t.stsz.has_value() == t.stz2.has_value()) {
    return make_error("{}", t.stsz ? "both stsz and stz2" : "no stsz or stz2 box");
  }
  auto box = full_box(t.stsz ? *t.stsz : *t.stz2);
  if (!box.ok()) return box.error();
  ByteReader& r = box->body;
  uint32_t constant_size = 0;
  uint32_t field_size = 32;
  if (t.stsz) {
    constant_size = r.u32be();
  } else {
    r.skip(3);  // reserved
    field_size = r.u8();
    if (field_size != 4 && field_size != 8 && field_size != 16) {
      return make_error("stz2 field_size {} is not 4, 8 or 16", field_size);
    }
  }
  const uint32_t count = r.u32be();
  if (!r.ok()) return make_error("truncated stsz box");
  if (count > limits.max_samples_per_track) {
    return make_error("sample_count {} exceeds the limit of {} samples per track", count,
                      limits.max_samples_per_track);
  }
  total_samples += count;
  if (total_samples > limits.max_total_samples) {
    return make_error("{} samples in the file exceed the limit of {}", total_samples,
                      limits.max_total_samples);
  }
  if (constant_size != 0) {
    // Every sample must lie in the file: a cheap bound before allocating.
    if (uint64_t{count} * constant_size > file_size) {
      return make_error("{} samples of {} bytes exceed the file size {}", count, constant_size,
                        file_size);
    }
    track.sample_sizes.assign(count, constant_size);
    return ok_status();
  }
  if (uint64_t{count} * field_size > uint64_t{r.remaining()} * 8) {
    return make_error("stsz sample_count {} does not fit in its box ({} bytes)", count,
                      r.remaining());
  }
  track.sample_sizes.resize(count);
  if (field_size == 32) {
    const uint8_t* p = r.rest().data();
    for (uint32_t i = 0; i < count; ++i) track.sample_sizes[i] = load_u32be(p + 4 * size_t{i});
  } else if (field_size == 16) {
    for (uint32_t i = 0; i < count; ++i) track.sample_sizes[i] = r.u16be();
  } else if (field_size == 8) {
    for (uint32_t i = 0; i < count; ++i) track.sample_sizes[i] = r.u8();
  } else {
    uint8_t byte = 0;
    for (uint32_t i = 0; i < count; ++i) {
      if (i % 2 == 0) byte = r.u8();
      track.sample_sizes[i] = (i % 2 == 0) ? byte >> 4 : byte & 0x0F;
    }
  }
  return ok_status();
}

// 14496-12 8.6.1.2 stts: decoding times.
Status parse_stts(const Box& stts, Mp4Track& track) {
  auto box = full_box(stts);
  if (!box.ok()) return box.error();
  ByteReader& r = box->body;
  const uint32_t entries = r.u32be();
  if (Status s = check_table("stts", entries, 8, r); !s.ok()) return s;
  const size_t n = track.sample_count();
  uint64_t total = 0;
  // No overflow: at most 2^31 samples of at most 2^32 ticks each.
  int64_t dts = 0;
  for (uint32_t i = 0; i < entries; ++i) {
    const uint32_t count = r.u32be();
    const uint32_t delta = r.u32be();
    if (count == 0) continue;
    if (count > n - total) {
      return make_error("stts describes more than the {} samples of stsz", n);
    }
    track.stts.push_back({static_cast<uint32_t>(total), count, delta, dts});
    total += count;
    dts += int64_t{count} * delta;
  }
  if (total != n) return make_error("stts describes {} samples, stsz {}", total, n);
  track.media_duration = static_cast<uint64_t>(dts);
  return ok_status();
}

// 14496-12 8.6.1.3 ctts: composition offsets. Version 0 offsets are read as
// signed, as FFmpeg does (writers store negative values there). A table
// shorter than the samples leaves the rest at 0; a longer one is an error.
Status parse_ctts(const Box& ctts, Mp4Track& track) {
  auto box = full_box(ctts);
  if (!box.ok()) return box.error();
  ByteReader& r = box->body;
  const uint32_t entries = r.u32be();
  if (Status s = check_table("ctts", entries, 8, r); !s.ok()) return s;
  const size_t n = track.sample_count();
  track.sample_cts_offsets.assign(n, 0);
  uint64_t total = 0;
  for (uint32_t i = 0; i < entries; ++i) {
    const uint32_t count = r.u32be();
    const auto offset = static_cast<int32_t>(r.u32be());
    if (count == 0) continue;
    if (count > n - total) return make_error("ctts describes more than the {} samples", n);
    track.ctts.push_back({static_cast<uint32_t>(total), count, offset});
    std::fill_n(track.sample_cts_offsets.begin() + static_cast<ptrdiff_t>(total), count, offset);
    total += count;
  }
  if (total < n) track.ctts.push_back({static_cast<uint32_t>(total), uint32_t(n - total), 0});
  return ok_status();
}

// 14496-12 8.6.2 stss: sync samples, 1-based and strictly increasing.
Status parse_stss(const Box& stss, Mp4Track& track) {
  auto box = full_box(stss);
  if (!box.ok()) return box.error();
  ByteReader& r = box->body;
  const uint32_t entries = r.u32be();
  if (Status s = check_table("stss", entries, 4, r); !s.ok()) return s;
  const size_t n = track.sample_count();
  if (entries > n) return make_error("stss has {} entries for {} samples", entries, n);
  track.all_sync = false;
  track.sync_samples.reserve(entries);
  for (uint32_t i = 0; i < entries; ++i) {
    const uint32_t number = r.u32be();
    if (number == 0 || number > n) {
      return make_error("stss sample_number {} is outside 1..{}", number, n);
    }
    if (!track.sync_samples.empty() && number - 1 <= track.sync_samples.back()) {
      return make_error("stss sample numbers are not increasing ({} after {})", number,
                        track.sync_samples.back() + 1);
    }
    track.sync_samples.push_back(number - 1);
  }
  return ok_status();
}

// 14496-12 8.7.4 stsc + 8.7.5 stco/co64: chunks, and from them the offset of
// every sample, each checked to lie inside the file.
Status parse_chunks(const SampleTableBoxes& t, Mp4Track& track, uint64_t file_size) {
  if (t.stco.has_value() == t.co64.has_value()) {
    return make_error("{}", t.stco ? "both stco and co64" : "no stco or co64 box");
  }
  if (!t.stsc) return make_error("no stsc box");
  auto offsets_box = full_box(t.stco ? *t.stco : *t.co64);
  if (!offsets_box.ok()) return offsets_box.error();
  ByteReader& offsets = offsets_box->body;
  const size_t offset_size = t.stco ? 4 : 8;
  const uint32_t chunk_count = offsets.u32be();
  if (Status s = check_table("stco", chunk_count, offset_size, offsets); !s.ok()) return s;
  const size_t n = track.sample_count();
  // Every chunk holds at least one sample (stsc samples_per_chunk >= 1).
  if (chunk_count > n) return make_error("{} chunks for {} samples", chunk_count, n);

  auto stsc_box = full_box(*t.stsc);
  if (!stsc_box.ok()) return stsc_box.error();
  ByteReader& stsc = stsc_box->body;
  const uint32_t entries = stsc.u32be();
  if (Status s = check_table("stsc", entries, 12, stsc); !s.ok()) return s;
  if (chunk_count > 0 && entries == 0) return make_error("stsc is empty but there are chunks");

  track.chunk_offsets.reserve(chunk_count);
  track.chunks_in_file_order = true;
  uint64_t previous_end = 0;
  uint64_t sample = 0;
  uint32_t first_chunk = stsc.u32be();
  if (entries > 0 && first_chunk != 1) {
    return make_error("stsc first_chunk of the first entry is {}, not 1", first_chunk);
  }
  for (uint32_t e = 0; e < entries; ++e) {
    const uint32_t samples_per_chunk = stsc.u32be();
    const uint32_t description_index = stsc.u32be();
    const uint32_t next_first_chunk = e + 1 < entries ? stsc.u32be() : chunk_count + 1;
    if (e + 1 < entries && next_first_chunk <= first_chunk) {
      return make_error("stsc first_chunk {} after {} is not increasing", next_first_chunk,
                        first_chunk);
    }
    if (next_first_chunk > chunk_count + 1) {
      return make_error("stsc first_chunk {} is past the {} chunks", next_first_chunk, chunk_count);
    }
    if (samples_per_chunk == 0) return make_error("stsc samples_per_chunk is 0");
    if (description_index == 0 || description_index > track.description_count) {
      return make_error("stsc sample_description_index {} is outside 1..{}", description_index,
                        track.description_count);
    }
    if (first_chunk < next_first_chunk) {
      track.chunk_runs.push_back(
          {first_chunk - 1, static_cast<uint32_t>(sample), samples_per_chunk, description_index});
    }
    for (uint32_t chunk = first_chunk; chunk < next_first_chunk; ++chunk) {
      if (samples_per_chunk > n - sample) {
        return make_error("stsc x stco describe more than the {} samples of stsz", n);
      }
      const uint64_t offset = offset_size == 4 ? offsets.u32be() : offsets.u64be();
      if (offset < previous_end) track.chunks_in_file_order = false;
      uint64_t end = offset;
      for (uint32_t i = 0; i < samples_per_chunk; ++i) {
        const uint32_t size = track.sample_sizes[sample + i];
        if (end > file_size || size > file_size - end) {
          return make_error("sample {} at offset {} size {} ends past the file ({} bytes)",
                            sample + i + 1, end, size, file_size);
        }
        end += size;
      }
      track.chunk_offsets.push_back(offset);
      previous_end = end;
      sample += samples_per_chunk;
    }
    first_chunk = next_first_chunk;
  }
  if (!offsets.ok() || !stsc.ok()) return make_error("truncated stsc or stco");
  if (sample != n) return make_error("stsc x stco describe {} samples, stsz {}", sample, n);
  return ok_status();
}

// 14496-12 8.6.4 sdtp: one byte per sample; the count comes from stsz.
Status parse_sdtp(const Box& sdtp, Mp4Track& track) {
  auto box = full_box(sdtp);
  if (!box.ok()) return box.error();
  const auto bytes = box->body.rest();
  if (bytes.size() != track.sample_count()) {
    return make_error("sdtp has {} entries for {} samples", bytes.size(), track.sample_count());
  }
  track.sdtp.assign(bytes.begin(), bytes.end());
  return ok_status();
}

// 14496-12 8.6.6 elst.
Status parse_elst(const Box& elst, Mp4Track& track, const Mp4Limits& limits) {
  auto box = full_box(elst);
  if (!box.ok()) return box.error();
  ByteReader& r = box->body;
  if (box->version > 1) return make_error("elst version {} is unknown", box->version);
  const uint32_t entries = r.u32be();
  if (entries > limits.max_edits_per_track) {
    return make_error("elst entry_count {} exceeds the limit of {}", entries,
                      limits.max_edits_per_track);
  }
  if (Status s = check_table("elst", entries, box->version == 1 ? 20 : 12, r); !s.ok()) return s;
  track.edits.reserve(entries);
  for (uint32_t i = 0; i < entries; ++i) {
    Mp4Edit edit;
    if (box->version == 1) {
      edit.segment_duration = r.u64be();
      edit.media_time = static_cast<int64_t>(r.u64be());
    } else {
      edit.segment_duration = r.u32be();
      edit.media_time = static_cast<int32_t>(r.u32be());
    }
    edit.media_rate = static_cast<int32_t>(r.u32be());
    if (edit.media_time < -1) return make_error("elst media_time {} is negative", edit.media_time);
    track.edits.push_back(edit);
  }
  // The leading empty edits, then the first edit that shows media.
  for (const Mp4Edit& edit : track.edits) {
    if (edit.media_time != -1) {
      track.media_start = edit.media_time;
      break;
    }
    if (edit.segment_duration > (uint64_t{1} << 62) - track.empty_duration) {
      return make_error("elst empty edits are too long");
    }
    track.empty_duration += edit.segment_duration;
  }
  return ok_status();
}

// 8.3.2 tkhd.
Status parse_tkhd(const Box& tkhd, Mp4Track& track) {
  auto box = full_box(tkhd);
  if (!box.ok()) return box.error();
  ByteReader& r = box->body;
  r.skip(box->version == 1 ? 16 : 8);  // creation_time, modification_time
  track.track_id = r.u32be();
  r.skip(4 + (box->version == 1 ? 8 : 4) + 8 + 2 + 2 + 2 + 2 + 36);  // through the matrix
  track.width = r.u32be() >> 16;
  track.height = r.u32be() >> 16;
  if (!r.ok() || box->version > 1) return make_error("truncated or unknown tkhd");
  if (track.track_id == 0) return make_error("tkhd track_ID is 0");
  track.tkhd = copy_box(tkhd);
  return ok_status();
}

// 8.4.2 mdhd.
Status parse_mdhd(const Box& mdhd, Mp4Track& track) {
  auto box = full_box(mdhd);
  if (!box.ok()) return box.error();
  ByteReader& r = box->body;
  r.skip(box->version == 1 ? 16 : 8);
  track.timescale = r.u32be();
  track.duration = box->version == 1 ? r.u64be() : r.u32be();
  track.language = r.u16be() & 0x7FFF;
  if (!r.ok() || box->version > 1) return make_error("truncated or unknown mdhd");
  if (track.timescale == 0) return make_error("mdhd timescale is 0");
  track.mdhd = copy_box(mdhd);
  return ok_status();
}

// 8.7.2 dinf/dref: only self-contained data (flags bit 0) can be served.
Status check_dinf(const Box& dinf) {
  return for_each_box(dinf.payload, [](const Box& child) -> Status {
    if (child.type != box_type("dref")) return ok_status();
    auto dref = full_box(child);
    if (!dref.ok()) return dref.error();
    dref->body.skip(4);  // entry_count; the entries are walked as boxes
    if (!dref->body.ok()) return make_error("truncated dref");
    return for_each_box(dref->body.rest(), [](const Box& entry) -> Status {
      auto data_entry = full_box(entry);
      if (!data_entry.ok()) return data_entry.error();
      if ((data_entry->flags & 1) == 0) {
        return make_error("data reference '{}' points outside the file", fourcc_name(entry.type));
      }
      return ok_status();
    });
  });
}

// Where the moov being parsed lies in the file, when known.
struct MoovPlacement {
  const uint8_t* begin = nullptr;  // the moov buffer
  std::optional<uint64_t> file_offset;
  // The file offset of the byte at `p` in the moov buffer; 0 when unknown.
  uint64_t file_offset_of(const uint8_t* p) const {
    return file_offset ? *file_offset + static_cast<uint64_t>(p - begin) : 0;
  }
};

Status parse_stbl(std::span<const uint8_t> stbl, Mp4Track& track, uint64_t file_size,
                  const Mp4Limits& limits, uint64_t& total_samples,
                  const MoovPlacement& placement) {
  SampleTableBoxes t;
  if (Status s = collect_stbl(stbl, t); !s.ok()) return s;
  if (!t.stsd || !t.stts) return make_error("no {} box", t.stsd ? "stts" : "stsd");
  // 8.5.2 stsd: FullBox header then entry_count.
  if (t.stsd->payload.size() < 8) return make_error("truncated stsd box");
  track.description_count = load_u32be(t.stsd->payload.data() + 4);
  track.stsd = copy_box(t.stsd);
  if (Status s = parse_sample_sizes(t, track, file_size, limits, total_samples); !s.ok()) return s;
  if (Status s = parse_stts(*t.stts, track); !s.ok()) return s;
  if (t.ctts) {
    if (Status s = parse_ctts(*t.ctts, track); !s.ok()) return s;
  }
  if (t.stss) {
    if (Status s = parse_stss(*t.stss, track); !s.ok()) return s;
  }
  if (Status s = parse_chunks(t, track, file_size); !s.ok()) return s;
  if (t.sdtp) {
    if (Status s = parse_sdtp(*t.sdtp, track); !s.ok()) return s;
    // 8.6.4: the entries follow the FullBox header.
    track.sdtp_entries_offset = placement.file_offset_of(t.sdtp->payload.data() + 4);
  }
  // 8.7.3.2 stsz: FullBox header, sample_size, sample_count, then the
  // 32-bit entries when sample_size is 0 (checked by parse_sample_sizes).
  if (t.stsz && load_u32be(t.stsz->payload.data() + 4) == 0 && track.sample_count() > 0) {
    track.stsz_entries_offset = placement.file_offset_of(t.stsz->payload.data() + 12);
  }
  // Summaries. Without ctts a sample ends where the next one is decoded,
  // so the last one ends the presentation; with it, every sample counts.
  int64_t presentation_end = static_cast<int64_t>(track.media_duration);
  if (!track.sample_cts_offsets.empty()) {
    presentation_end = 0;
    track.min_cts_offset = track.sample_cts_offsets[0];
    track.max_cts_offset = track.sample_cts_offsets[0];
    for (const Mp4SttsRun& run : track.stts) {
      int64_t dts = run.first_dts;
      for (size_t i = run.first_sample; i < size_t{run.first_sample} + run.count; ++i) {
        const int32_t cts = track.sample_cts_offsets[i];
        track.min_cts_offset = std::min(track.min_cts_offset, cts);
        track.max_cts_offset = std::max(track.max_cts_offset, cts);
        presentation_end = std::max(presentation_end, dts + cts + run.delta);
        dts += run.delta;
      }
    }
  }
  track.presentation_end = presentation_end;
  track.ctts_signed = track.min_cts_offset < 0;
  return ok_status();
}

Status parse_trak(std::span<const uint8_t> trak, Mp4Track& track, uint64_t file_size,
                  const Mp4Limits& limits, uint64_t& total_samples,
                  const MoovPlacement& placement) {
  std::optional<Box> tkhd, edts, mdia, mdhd, hdlr, minf, media_header, dinf, stbl;
  Status s = for_each_box(trak, [&](const Box& box) -> Status {
    switch (box.type) {
      case box_type("tkhd"):
        return take_once(tkhd, box);
      case box_type("edts"):
        return take_once(edts, box);
      case box_type("mdia"):
        return take_once(mdia, box);
      default:
        return ok_status();
    }
  });
  if (!s.ok()) return s;
  if (!tkhd || !mdia) return make_error("trak without {}", tkhd ? "mdia" : "tkhd");
  if (s = parse_tkhd(*tkhd, track); !s.ok()) return s;
  if (edts) {
    std::optional<Box> elst;
    s = for_each_box(edts->payload, [&](const Box& box) -> Status {
      return box.type == box_type("elst") ? take_once(elst, box) : ok_status();
    });
    if (!s.ok()) return s;
    if (elst) {
      if (s = parse_elst(*elst, track, limits); !s.ok()) return s;
    }
  }
  s = for_each_box(mdia->payload, [&](const Box& box) -> Status {
    switch (box.type) {
      case box_type("mdhd"):
        return take_once(mdhd, box);
      case box_type("hdlr"):
        return take_once(hdlr, box);
      case box_type("minf"):
        return take_once(minf, box);
      default:
        return ok_status();
    }
  });
  if (!s.ok()) return s;
  if (!mdhd || !hdlr || !minf) return make_error("mdia without mdhd, hdlr or minf");
  if (s = parse_mdhd(*mdhd, track); !s.ok()) return s;
  // 8.4.3 hdlr: pre_defined (4), handler_type (4).
  if (hdlr->payload.size() < 12) return make_error("truncated hdlr box");
  track.handler_type = load_u32be(hdlr->payload.data() + 8);
  track.kind = track.handler_type == box_type("vide")   ? Mp4TrackKind::kVideo
               : track.handler_type == box_type("soun") ? Mp4TrackKind::kAudio
                                                        : Mp4TrackKind::kOther;
  track.hdlr = copy_box(hdlr);
  s = for_each_box(minf->payload, [&](const Box& box) -> Status {
    switch (box.type) {
      // 8.4.5: the media information header of each handler type.
      case box_type("vmhd"):
      case box_type("smhd"):
      case box_type("hmhd"):
      case box_type("nmhd"):
      case box_type("sthd"):
      case box_type("gmhd"):
        return take_once(media_header, box);
      case box_type("dinf"):
        return take_once(dinf, box);
      case box_type("stbl"):
        return take_once(stbl, box);
      default:
        return ok_status();
    }
  });
  if (!s.ok()) return s;
  if (!stbl) return make_error("minf without stbl");
  if (dinf) {
    if (s = check_dinf(*dinf); !s.ok()) return s;
  }
  track.media_header = copy_box(media_header);
  track.dinf = copy_box(dinf);
  return parse_stbl(stbl->payload, track, file_size, limits, total_samples, placement);
}

}  // namespace

Result<size_t> Mp4MemorySource::read_at(uint64_t offset, std::span<uint8_t> out) {
  if (offset >= bytes_.size()) return size_t{0};
  const size_t n = std::min<uint64_t>(out.size(), bytes_.size() - offset);
  std::memcpy(out.data(), bytes_.data() + offset, n);
  return n;
}

size_t Mp4Index::total_samples() const {
  size_t total = 0;
  for (const Mp4Track& track : tracks) total += track.sample_count();
  return total;
}

size_t Mp4Index::memory_bytes() const {
  size_t bytes = sizeof(*this) + mvhd.size() + ftyp.size();
  for (const Mp4Track& t : tracks) {
    bytes += sizeof(t) + t.tkhd.size() + t.mdhd.size() + t.hdlr.size() + t.media_header.size() +
             t.dinf.size() + t.stsd.size() + t.edits.size() * sizeof(Mp4Edit) +
             t.sample_sizes.size() * 4 + t.sample_cts_offsets.size() * 4 + t.sdtp.size() + t.sync_samples.size() * 4 +
             t.stts.size() * sizeof(Mp4SttsRun) + t.ctts.size() * sizeof(Mp4CttsRun) +
             t.chunk_offsets.size() * 8 + t.chunk_runs.size() * sizeof(Mp4ChunkRun);
  }
  return bytes;
}

Result<Mp4Layout> scan_mp4(Mp4Source& source, const Mp4Limits& limits) {
  Mp4Layout layout;
  layout.file_size = source.size();
  uint64_t offset = 0;
  uint32_t boxes = 0;
  while (offset < layout.file_size) {
    if (++boxes > limits.max_top_level_boxes) {
      return make_error("more than {} top-level boxes", limits.max_top_level_boxes);
    }
    std::array<uint8_t, 16> header{};
    auto read = source.read_at(offset, header);
    if (!read.ok()) return read.error();
    const uint64_t left = layout.file_size - offset;
    if (*read < std::min<uint64_t>(8, left)) return make_error("short read at offset {}", offset);
    if (left < 8) return make_error("{} trailing bytes at offset {}", left, offset);
    Mp4BoxRange box{offset, load_u32be(header.data()), 8};
    const uint32_t type = load_u32be(header.data() + 4);
    if (box.size == 1) {
      if (left < 16 || *read < 16) return make_error("truncated largesize at offset {}", offset);
      box.size = uint64_t{load_u32be(header.data() + 8)} << 32 | load_u32be(header.data() + 12);
      box.header_size = 16;
    } else if (box.size == 0) {
      box.size = left;  // 14496-12 4.2: the last box, to the end of the file
    }
    if (box.size < box.header_size) {
      return make_error("box '{}' at offset {} has size {}, smaller than its header",
                        fourcc_name(type), offset, box.size);
    }
    if (box.size > left) {
      return make_error("box '{}' at offset {} (size {}) runs past the end of the file ({})",
                        fourcc_name(type), offset, box.size, layout.file_size);
    }
    switch (type) {
      case box_type("ftyp"):
        if (layout.ftyp) return make_error("two ftyp boxes");
        layout.ftyp = box;
        break;
      case box_type("moov"):
        if (layout.moov) return make_error("two moov boxes");
        layout.moov = box;
        break;
      case box_type("mdat"):
        layout.mdats.push_back(box);
        break;
      case box_type("moof"):
        layout.fragmented = true;
        return layout;
      default:
        break;
    }
    offset += box.size;
  }
  return layout;
}

Result<Mp4Index> parse_mp4_moov(std::span<const uint8_t> moov, uint64_t file_size,
                                const Mp4Limits& limits, std::optional<uint64_t> moov_file_offset) {
  // Boxes are copied with 32-bit sizes (copy_box).
  if (moov.size() > limits.max_moov_size || moov.size() > std::numeric_limits<uint32_t>::max()) {
    return make_error("moov of {} bytes exceeds the limit of {}", moov.size(),
                      limits.max_moov_size);
  }
  std::optional<Box> moov_box;
  Status s = for_each_box(moov, [&](const Box& box) -> Status {
    if (box.type != box_type("moov")) return make_error("'{}' is not moov", fourcc_name(box.type));
    return take_once(moov_box, box);
  });
  if (!s.ok()) return s.error();
  if (!moov_box) return make_error("empty moov");

  Mp4Index index;
  index.file_size = file_size;
  std::optional<Box> mvhd;
  std::vector<Box> traks;
  s = for_each_box(moov_box->payload, [&](const Box& box) -> Status {
    switch (box.type) {
      case box_type("mvhd"):
        return take_once(mvhd, box);
      case box_type("trak"):
        if (traks.size() >= limits.max_tracks) {
          return make_error("more than {} tracks", limits.max_tracks);
        }
        traks.push_back(box);
        return ok_status();
      case box_type("mvex"):
        index.fragmented = true;
        return ok_status();
      case box_type("cmov"):
        return make_error("compressed moov (cmov) is not supported");
      default:
        return ok_status();
    }
  });
  if (!s.ok()) return s.error();
  if (!mvhd) return make_error("moov without mvhd");
  // 8.2.2 mvhd.
  auto mvhd_full = full_box(*mvhd);
  if (!mvhd_full.ok()) return mvhd_full.error();
  ByteReader& r = mvhd_full->body;
  r.skip(mvhd_full->version == 1 ? 16 : 8);
  index.movie_timescale = r.u32be();
  index.movie_duration = mvhd_full->version == 1 ? r.u64be() : r.u32be();
  if (!r.ok() || mvhd_full->version > 1) return make_error("truncated or unknown mvhd");
  if (index.movie_timescale == 0) return make_error("mvhd timescale is 0");
  index.mvhd = copy_box(mvhd);

  uint64_t total_samples = 0;
  const MoovPlacement placement{moov.data(), moov_file_offset};
  index.tracks.resize(traks.size());
  for (size_t i = 0; i < traks.size(); ++i) {
    Mp4Track& track = index.tracks[i];
    s = parse_trak(traks[i].payload, track, file_size, limits, total_samples, placement);
    if (!s.ok()) {
      return make_error("trak {} (track_ID {}): {}", i + 1, track.track_id, s.error().message);
    }
    for (size_t j = 0; j < i; ++j) {
      if (index.tracks[j].track_id == track.track_id) {
        return make_error("two tracks with track_ID {}", track.track_id);
      }
    }
  }
  return index;
}

namespace {

// Per thread: the buffer read_mp4_index reads a moov into. Kept between
// calls up to kKeptMoovScratch bytes (a two-hour file's moov is ~5 MB);
// a larger one is freed after its parse.
constexpr size_t kKeptMoovScratch = 16u << 20;

struct MoovScratch {
  std::unique_ptr<uint8_t[]> bytes;
  size_t capacity = 0;
};
thread_local MoovScratch moov_scratch_buffer;

std::span<uint8_t> moov_scratch(size_t size) {
  MoovScratch& s = moov_scratch_buffer;
  if (s.capacity < size) {
    s.bytes.reset();  // not zeroed: every byte is read into before use
    s.bytes.reset(new uint8_t[size]);
    s.capacity = size;
  }
  return {s.bytes.get(), size};
}

void release_moov_scratch() {
  MoovScratch& s = moov_scratch_buffer;
  if (s.capacity > kKeptMoovScratch) {
    s.bytes.reset();
    s.capacity = 0;
  }
}

}  // namespace

Result<Mp4Index> read_mp4_index(Mp4Source& source, const Mp4Layout& layout,
                                const Mp4Limits& limits) {
  if (layout.fragmented) return make_error("fragmented MP4 (moof): no sample index in moov");
  if (!layout.moov) return make_error("no moov box");
  if (layout.moov->size > limits.max_moov_size) {
    return make_error("moov of {} bytes exceeds the limit of {}", layout.moov->size,
                      limits.max_moov_size);
  }
  auto read_box = [&](const Mp4BoxRange& box) -> Result<std::vector<uint8_t>> {
    std::vector<uint8_t> bytes(box.size);
    auto n = source.read_at(box.offset, bytes);
    if (!n.ok()) return n.error();
    if (*n != bytes.size()) return make_error("short read of {} bytes at {}", *n, box.offset);
    return bytes;
  };
  // The moov is only read while parsing: into this thread's scratch buffer,
  // whose pages stay mapped from one index to the next (a fresh buffer costs
  // a page fault per 4 KiB, as much as a third of a big moov's parse).
  const size_t moov_size = static_cast<size_t>(layout.moov->size);
  const std::span<uint8_t> moov = moov_scratch(moov_size);
  auto n = source.read_at(layout.moov->offset, moov);
  if (!n.ok()) {
    release_moov_scratch();
    return n.error();
  }
  if (*n != moov_size) {
    release_moov_scratch();
    return make_error("short read of {} bytes at {}", *n, layout.moov->offset);
  }
  auto index = parse_mp4_moov(moov, layout.file_size, limits, layout.moov->offset);
  release_moov_scratch();
  if (!index.ok()) return index;
  if (index->fragmented) return make_error("fragmented MP4 (mvex): no sample index in moov");
  // A plain ftyp is a few dozen bytes; a huge one is not worth copying into
  // every clip (build_mp4_clip then writes its own).
  constexpr uint64_t kMaxFtypSize = 4096;
  if (layout.ftyp && layout.ftyp->header_size == 8 && layout.ftyp->size <= kMaxFtypSize) {
    auto ftyp = read_box(*layout.ftyp);
    if (!ftyp.ok()) return ftyp.error();
    index->ftyp = std::move(*ftyp);
  }
  return index;
}

}  // namespace cascade::media
