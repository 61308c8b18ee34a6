#include "media/amf0.h"

#include <gtest/gtest.h>

#include <string>
#include <type_traits>
#include <vector>

#include "media/test_corpus.h"

namespace cascade::amf0 {
namespace {

using media::testing::bytes;
using media::testing::Bytes;
using media::testing::concat;
using media::testing::save_seed;
using media::testing::text;

// AMF0 string-type payload: U16 length + UTF-8.
Bytes utf8(std::string_view s) {
  return concat({bytes({0, static_cast<int>(s.size())}), text(s)});
}

// A real onMetaData script tag body written by FFmpeg (Lavf59.27.100) for a
// 1280x720 H.264 + AAC FLV: "onMetaData" + ECMA array of 13 properties.
const Bytes kFfmpegOnMetaData = bytes({
    0x02, 0x00, 0x0a, 0x6f, 0x6e, 0x4d, 0x65, 0x74, 0x61, 0x44, 0x61, 0x74, 0x61, 0x08, 0x00, 0x00,
    0x00, 0x0d, 0x00, 0x08, 0x64, 0x75, 0x72, 0x61, 0x74, 0x69, 0x6f, 0x6e, 0x00, 0x3f, 0xf1, 0x12,
    0x6e, 0x97, 0x8d, 0x4f, 0xdf, 0x00, 0x05, 0x77, 0x69, 0x64, 0x74, 0x68, 0x00, 0x40, 0x94, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06, 0x68, 0x65, 0x69, 0x67, 0x68, 0x74, 0x00, 0x40, 0x86,
    0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0d, 0x76, 0x69, 0x64, 0x65, 0x6f, 0x64, 0x61, 0x74,
    0x61, 0x72, 0x61, 0x74, 0x65, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09,
    0x66, 0x72, 0x61, 0x6d, 0x65, 0x72, 0x61, 0x74, 0x65, 0x00, 0x40, 0x3e, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x0c, 0x76, 0x69, 0x64, 0x65, 0x6f, 0x63, 0x6f, 0x64, 0x65, 0x63, 0x69, 0x64,
    0x00, 0x40, 0x1c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0d, 0x61, 0x75, 0x64, 0x69, 0x6f,
    0x64, 0x61, 0x74, 0x61, 0x72, 0x61, 0x74, 0x65, 0x00, 0x40, 0x4f, 0x40, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x0f, 0x61, 0x75, 0x64, 0x69, 0x6f, 0x73, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x72, 0x61,
    0x74, 0x65, 0x00, 0x40, 0xe5, 0x88, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0f, 0x61, 0x75, 0x64,
    0x69, 0x6f, 0x73, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x73, 0x69, 0x7a, 0x65, 0x00, 0x40, 0x30, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06, 0x73, 0x74, 0x65, 0x72, 0x65, 0x6f, 0x01, 0x01, 0x00,
    0x0c, 0x61, 0x75, 0x64, 0x69, 0x6f, 0x63, 0x6f, 0x64, 0x65, 0x63, 0x69, 0x64, 0x00, 0x40, 0x24,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x65, 0x6e, 0x63, 0x6f, 0x64, 0x65, 0x72, 0x02,
    0x00, 0x0d, 0x4c, 0x61, 0x76, 0x66, 0x35, 0x39, 0x2e, 0x32, 0x37, 0x2e, 0x31, 0x30, 0x30, 0x00,
    0x08, 0x66, 0x69, 0x6c, 0x65, 0x73, 0x69, 0x7a, 0x65, 0x00, 0x40, 0xdd, 0x72, 0xc0, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x09,
});

// RTMP connect command as sent by OBS/FFmpeg-style publishers.
Bytes connect_command_bytes() {
  return concat({bytes({0x02}), utf8("connect"),                                       //
                 bytes({0x00, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0}),                          // 1.0
                 bytes({0x03}),                                                        // object
                 utf8("app"), bytes({0x02}), utf8("live"),                             //
                 utf8("type"), bytes({0x02}), utf8("nonprivate"),                      //
                 utf8("tcUrl"), bytes({0x02}), utf8("rtmp://localhost/live"),          //
                 utf8("fpad"), bytes({0x01, 0x00}),                                    //
                 utf8("audioCodecs"), bytes({0x00, 0x40, 0xab, 0xee, 0, 0, 0, 0, 0}),  // 3575
                 bytes({0x00, 0x00, 0x09})});
}

Value connect_command_object() {
  return Value::object()
      .set("app", Value::string("live"))
      .set("type", Value::string("nonprivate"))
      .set("tcUrl", Value::string("rtmp://localhost/live"))
      .set("fpad", Value::boolean(false))
      .set("audioCodecs", Value::number(3575));
}

struct DecodeCase {
  std::string name;
  Bytes wire;
  std::vector<Value> expected;
  bool canonical;  // encode(expected) reproduces `wire` exactly
};

std::vector<DecodeCase> decode_cases() {
  std::vector<DecodeCase> cases;
  // AMF0 spec 2.2
  cases.push_back(
      {"number_one", bytes({0x00, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0}), {Value::number(1.0)}, true});
  cases.push_back({"number_negative",
                   bytes({0x00, 0xc0, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18}),
                   {Value::number(-3.141592653589793)},
                   true});
  // AMF0 spec 2.3: any non-zero byte is true.
  cases.push_back({"boolean_true", bytes({0x01, 0x01}), {Value::boolean(true)}, true});
  cases.push_back({"boolean_false", bytes({0x01, 0x00}), {Value::boolean(false)}, true});
  cases.push_back({"boolean_nonzero", bytes({0x01, 0x7f}), {Value::boolean(true)}, false});
  // AMF0 spec 2.4
  cases.push_back({"string", concat({bytes({0x02}), utf8("abc")}), {Value::string("abc")}, true});
  cases.push_back({"string_empty", bytes({0x02, 0x00, 0x00}), {Value::string("")}, true});
  // AMF0 spec 2.14 / 2.17: long string and XML document decode as strings.
  cases.push_back({"long_string",
                   concat({bytes({0x0c, 0, 0, 0, 2}), text("hi")}),
                   {Value::string("hi")},
                   false});
  cases.push_back({"xml_document",
                   concat({bytes({0x0f, 0, 0, 0, 4}), text("<a/>")}),
                   {Value::string("<a/>")},
                   false});
  // AMF0 spec 2.7 / 2.8
  cases.push_back({"null", bytes({0x05}), {Value::null()}, true});
  cases.push_back({"undefined", bytes({0x06}), {Value::undefined()}, true});
  // AMF0 spec 2.13: DOUBLE ms + S16 time-zone (ignored).
  cases.push_back({"date",
                   bytes({0x0b, 0x42, 0x77, 0x6b, 0xb3, 0xe7, 0x00, 0x00, 0x00, 0, 0}),
                   {Value::date(1609459200000.0)},
                   true});
  cases.push_back({"date_timezone_ignored",
                   bytes({0x0b, 0x42, 0x77, 0x6b, 0xb3, 0xe7, 0x00, 0x00, 0x00, 0xff, 0xc4}),
                   {Value::date(1609459200000.0)},
                   false});
  // AMF0 spec 2.5
  cases.push_back({"object",
                   concat({bytes({0x03}), utf8("a"), bytes({0x00, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0}),
                           utf8("b"), bytes({0x05}), bytes({0, 0, 9})}),
                   {Value::object().set("a", Value::number(1)).set("b", Value::null())},
                   true});
  cases.push_back({"object_empty", bytes({0x03, 0, 0, 9}), {Value::object()}, true});
  // AMF0 spec 2.18: the class name is dropped.
  cases.push_back(
      {"typed_object",
       concat({bytes({0x10}), utf8("com.Foo"), utf8("x"), bytes({0x01, 0x01}), bytes({0, 0, 9})}),
       {Value::object().set("x", Value::boolean(true))},
       false});
  // AMF0 spec 2.10: the associative-count is only a hint.
  cases.push_back(
      {"ecma_array",
       concat({bytes({0x08, 0, 0, 0, 1}), utf8("k"), bytes({0x02}), utf8("v"), bytes({0, 0, 9})}),
       {Value::ecma_array().set("k", Value::string("v"))},
       true});
  cases.push_back({"ecma_array_wrong_count",
                   concat({bytes({0x08, 0, 0, 0, 7}), utf8("k"), bytes({0x05}), bytes({0, 0, 9})}),
                   {Value::ecma_array().set("k", Value::null())},
                   false});
  cases.push_back({"ecma_array_missing_end_at_eof",
                   concat({bytes({0x08, 0, 0, 0, 1}), utf8("k"), bytes({0x05})}),
                   {Value::ecma_array().set("k", Value::null())},
                   false});
  // AMF0 spec 2.12
  cases.push_back(
      {"strict_array",
       concat({bytes({0x0a, 0, 0, 0, 2, 0x00, 0x40, 0, 0, 0, 0, 0, 0, 0, 0x02}), utf8("x")}),
       {Value::strict_array().push(Value::number(2)).push(Value::string("x"))},
       true});
  cases.push_back({"strict_array_empty", bytes({0x0a, 0, 0, 0, 0}), {Value::strict_array()}, true});
  cases.push_back({"nested",
                   concat({bytes({0x03}), utf8("o"), bytes({0x03}), utf8("a"),
                           bytes({0x0a, 0, 0, 0, 1, 0x06}), bytes({0, 0, 9}), bytes({0, 0, 9})}),
                   {Value::object().set("o", Value::object().set("a", Value::strict_array().push(
                                                                          Value::undefined())))},
                   true});
  cases.push_back({"duplicate_keys_kept",
                   concat({bytes({0x03}), utf8("a"), bytes({0x05}), utf8("a"), bytes({0x06}),
                           bytes({0, 0, 9})}),
                   {},
                   true});
  cases.push_back({"connect_command",
                   connect_command_bytes(),
                   {Value::string("connect"), Value::number(1), connect_command_object()},
                   true});
  cases.push_back({"empty_sequence", {}, {}, true});
  return cases;
}

TEST(Amf0Decode, GoldenCases) {
  for (const DecodeCase& c : decode_cases()) {
    SCOPED_TRACE(c.name);
    save_seed("amf0", c.name, c.wire);
    auto values = decode_all(c.wire);
    ASSERT_TRUE(values.ok()) << values.error().message;
    if (c.name == "duplicate_keys_kept") {
      ASSERT_EQ(values->size(), 1u);
      ASSERT_EQ((*values)[0].properties().size(), 2u);
      EXPECT_TRUE((*values)[0].get("a")->is_null());  // get() returns the first
      continue;
    }
    ASSERT_EQ(values->size(), c.expected.size());
    for (size_t i = 0; i < c.expected.size(); ++i) {
      EXPECT_EQ((*values)[i], c.expected[i])
          << (*values)[i].to_string() << " vs " << c.expected[i].to_string();
    }
    if (c.canonical) {
      EXPECT_EQ(encode_all(*values), c.wire);
    }
  }
}

TEST(Amf0Decode, DecodeReadsOneValueAndLeavesTheRest) {
  const Bytes wire = concat({bytes({0x05}), bytes({0x02}), utf8("x")});
  ByteReader reader(wire);
  auto first = decode(reader);
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(first->is_null());
  EXPECT_EQ(reader.position(), 1u);
  auto second = decode(reader);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->as_string(), "x");
  EXPECT_TRUE(reader.empty());
}

TEST(Amf0Decode, FfmpegOnMetaData) {
  save_seed("amf0", "ffmpeg_onmetadata", kFfmpegOnMetaData);
  auto values = decode_all(kFfmpegOnMetaData);
  ASSERT_TRUE(values.ok()) << values.error().message;
  ASSERT_EQ(values->size(), 2u);
  EXPECT_EQ((*values)[0].as_string(), "onMetaData");
  const Value& meta = (*values)[1];
  EXPECT_EQ(meta.type(), Value::Type::kEcmaArray);
  EXPECT_TRUE(meta.is_object());
  EXPECT_EQ(meta.properties().size(), 13u);
  EXPECT_EQ(meta.get("width")->as_number(), 1280.0);
  EXPECT_EQ(meta.get("height")->as_number(), 720.0);
  EXPECT_EQ(meta.get("framerate")->as_number(), 30.0);
  EXPECT_EQ(meta.get("videocodecid")->as_number(), 7.0);
  EXPECT_EQ(meta.get("audiocodecid")->as_number(), 10.0);
  EXPECT_EQ(meta.get("audiosamplerate")->as_number(), 44100.0);
  EXPECT_TRUE(meta.get("stereo")->as_bool());
  EXPECT_EQ(meta.get("encoder")->as_string(), "Lavf59.27.100");
  EXPECT_EQ(meta.properties().front().first, "duration");
  EXPECT_EQ(meta.properties().back().first, "filesize");
  // Re-encoding writes the true count (13, as FFmpeg did): byte-identical.
  EXPECT_EQ(encode_all(*values), kFfmpegOnMetaData);
}

struct ErrorCase {
  std::string name;
  Bytes wire;
  std::string error;  // expected substring
};

Bytes nested_objects(int depth) {
  Bytes out;
  for (int i = 0; i < depth; ++i) {
    out.push_back(0x03);
    auto key = utf8("a");
    out.insert(out.end(), key.begin(), key.end());
  }
  out.push_back(0x05);
  for (int i = 0; i < depth; ++i) out.insert(out.end(), {0, 0, 9});
  return out;
}

Bytes many_nulls_array(uint32_t count) {
  Bytes out = bytes({0x0a, int(count >> 24), int((count >> 16) & 0xff), int((count >> 8) & 0xff),
                     int(count & 0xff)});
  out.resize(out.size() + count, 0x05);
  return out;
}

std::vector<ErrorCase> error_cases() {
  return {
      {"number_truncated", bytes({0x00, 0x3f, 0xf0}), "truncated AMF0 number"},
      {"boolean_truncated", bytes({0x01}), "truncated AMF0 boolean"},
      {"string_truncated_length", bytes({0x02, 0x00}), "truncated AMF0 string"},
      {"string_truncated_body", concat({bytes({0x02, 0x00, 0x05}), text("ab")}),
       "truncated AMF0 string"},
      {"long_string_truncated", bytes({0x0c, 0xff, 0xff, 0xff, 0xff, 0x41}),
       "truncated AMF0 long string"},
      {"xml_truncated", bytes({0x0f, 0, 0, 1}), "truncated AMF0 XML document"},
      {"date_truncated", bytes({0x0b, 0x42, 0x77, 0x6b, 0xb3, 0xe7, 0x00, 0x00, 0x00, 0}),
       "truncated AMF0 date"},
      {"object_missing_end", concat({bytes({0x03}), utf8("a"), bytes({0x05})}),
       "truncated AMF0 object"},
      {"object_key_without_value", concat({bytes({0x03}), utf8("a")}), "truncated AMF0 object"},
      {"typed_object_truncated_name", bytes({0x10, 0x00, 0x09, 0x41}),
       "truncated AMF0 typed object"},
      {"ecma_array_truncated_count", bytes({0x08, 0, 0}), "truncated AMF0 ECMA array"},
      {"ecma_array_truncated_key", bytes({0x08, 0, 0, 0, 1, 0x00, 0x05, 0x61}),
       "truncated AMF0 ECMA array"},
      {"strict_array_truncated_count", bytes({0x0a, 0, 0}), "truncated AMF0 strict array"},
      {"strict_array_huge_count", bytes({0x0a, 0xff, 0xff, 0xff, 0xff, 0x05}),
       "truncated AMF0 strict array"},
      {"strict_array_short", bytes({0x0a, 0, 0, 0, 2, 0x05, 0x02}), "truncated AMF0 string"},
      {"reference", bytes({0x07, 0x00, 0x01}), "AMF0 references are not supported"},
      {"avmplus", bytes({0x11, 0x01}), "AMF3 value (avmplus marker) not supported"},
      {"movieclip", bytes({0x04}), "movieclip"},
      {"recordset", bytes({0x0e}), "recordset"},
      {"unsupported", bytes({0x0d}), "unsupported marker"},
      {"object_end_at_top", bytes({0x09}), "unexpected AMF0 object-end"},
      {"unknown_marker", bytes({0x12}), "unknown AMF0 type marker 0x12"},
      {"too_deep", nested_objects(kMaxDepth + 1), "nesting deeper than 32"},
      {"too_many_values", many_nulls_array(kMaxValues), "more than 65536 values"},
      {"valid_then_garbage", bytes({0x05, 0x05, 0x42}), "unknown AMF0 type marker 0x42"},
  };
}

TEST(Amf0Decode, ErrorCases) {
  for (const ErrorCase& c : error_cases()) {
    SCOPED_TRACE(c.name);
    save_seed("amf0", c.name, c.wire);
    auto values = decode_all(c.wire);
    ASSERT_FALSE(values.ok());
    EXPECT_NE(values.error().message.find(c.error), std::string::npos) << values.error().message;
  }
}

TEST(Amf0Decode, LimitsAllowTheBoundaryItself) {
  auto deep = decode_all(nested_objects(kMaxDepth));
  EXPECT_TRUE(deep.ok()) << deep.error().message;
  // The array itself is one value, so it may hold kMaxValues - 1 elements.
  auto many = decode_all(many_nulls_array(kMaxValues - 1));
  ASSERT_TRUE(many.ok()) << many.error().message;
  EXPECT_EQ((*many)[0].elements().size(), kMaxValues - 1);
}

TEST(Amf0Decode, EmptyInputToDecodeIsAnError) {
  ByteReader reader(std::span<const uint8_t>{});
  auto v = decode(reader);
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.error().message.find("truncated AMF0 value"), std::string::npos);
}

struct EncodeCase {
  std::string name;
  Value value;
  Bytes wire;
};

TEST(Amf0Encode, GoldenCases) {
  const std::vector<EncodeCase> cases = {
      {"number", Value::number(0.5), bytes({0x00, 0x3f, 0xe0, 0, 0, 0, 0, 0, 0})},
      {"boolean", Value::boolean(true), bytes({0x01, 0x01})},
      {"string", Value::string("_result"), concat({bytes({0x02}), utf8("_result")})},
      {"null", Value::null(), bytes({0x05})},
      {"undefined", Value::undefined(), bytes({0x06})},
      {"date", Value::date(0), bytes({0x0b, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})},
      {"object", Value::object().set("level", Value::string("status")),
       concat({bytes({0x03}), utf8("level"), bytes({0x02}), utf8("status"), bytes({0, 0, 9})})},
      {"ecma_array", Value::ecma_array().set("a", Value::null()).set("b", Value::null()),
       concat({bytes({0x08, 0, 0, 0, 2}), utf8("a"), bytes({0x05}), utf8("b"), bytes({0x05}),
               bytes({0, 0, 9})})},
      {"strict_array", Value::strict_array().push(Value::boolean(false)),
       bytes({0x0a, 0, 0, 0, 1, 0x01, 0x00})},
  };
  for (const EncodeCase& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<uint8_t> out;
    encode(c.value, out);
    EXPECT_EQ(out, c.wire);
  }
}

TEST(Amf0Encode, ConnectCommandGolden) {
  EXPECT_EQ(encode_all({Value::string("connect"), Value::number(1), connect_command_object()}),
            connect_command_bytes());
  const std::vector<Value> values = {Value::string("connect"), Value::number(1),
                                     connect_command_object()};
  EXPECT_EQ(encode_all(std::span<const Value>(values)), connect_command_bytes());
}

TEST(Amf0Encode, StringsOver65535BytesBecomeLongStrings) {
  const std::string max_short(65535, 'a');
  std::vector<uint8_t> out;
  encode(Value::string(max_short), out);
  ASSERT_EQ(out.size(), 3u + 65535u);
  EXPECT_EQ(out[0], 0x02);

  const std::string long_string(65536, 'b');
  out.clear();
  encode(Value::string(long_string), out);
  ASSERT_EQ(out.size(), 5u + 65536u);
  EXPECT_EQ(Bytes(out.begin(), out.begin() + 5), bytes({0x0c, 0x00, 0x01, 0x00, 0x00}));
  auto back = decode_all(out);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ((*back)[0].as_string(), long_string);
}

TEST(Amf0Value, ObjectSetReplacesInPlaceAndKeepsOrder) {
  Value v = Value::object();
  v.set("b", Value::number(1)).set("a", Value::number(2)).set("b", Value::number(3));
  ASSERT_EQ(v.properties().size(), 2u);
  EXPECT_EQ(v.properties()[0].first, "b");
  EXPECT_EQ(v.properties()[0].second.as_number(), 3.0);
  EXPECT_EQ(v.properties()[1].first, "a");
  EXPECT_EQ(v.get("missing"), nullptr);
  EXPECT_EQ(Value::number(1).get("b"), nullptr);
}

static_assert(std::is_same_v<Value::Type, Type>);

TEST(Amf0Value, TypeQueriesAndDefaults) {
  EXPECT_TRUE(Value::ecma_array().is_object());
  EXPECT_TRUE(Value::object().is_object());
  EXPECT_FALSE(Value::strict_array().is_object());
  EXPECT_EQ(Value::string("x").as_number(), 0.0);
  EXPECT_EQ(Value::number(5).as_string(), "");
  EXPECT_FALSE(Value::number(1).as_bool());
  EXPECT_EQ(Value::date(42).as_number(), 42.0);
  EXPECT_EQ(Value::date(42).type(), Value::Type::kDate);
  EXPECT_TRUE(Value().is_undefined());
  EXPECT_NE(Value::null(), Value::undefined());
  EXPECT_NE(Value::object(), Value::ecma_array());
  EXPECT_NE(Value::number(1), Value::date(1));
}

TEST(Amf0Value, SetAndPushConvertOtherTypes) {
  Value v = Value::null();
  v.set("k", Value::boolean(true));
  EXPECT_EQ(v.type(), Value::Type::kObject);
  Value a = Value::number(3);
  a.push(Value::null());
  EXPECT_EQ(a.type(), Value::Type::kStrictArray);
  EXPECT_EQ(a.elements().size(), 1u);
}

TEST(Amf0Value, ToStringIsJsonIsh) {
  Value v = Value::object()
                .set("s", Value::string("a\"b\n"))
                .set("n", Value::number(1.5))
                .set("arr", Value::strict_array().push(Value::null()).push(Value::boolean(true)))
                .set("u", Value::undefined())
                .set("d", Value::date(7));
  EXPECT_EQ(v.to_string(), R"({"s":"a\"b\n","n":1.5,"arr":[null,true],"u":undefined,"d":Date(7)})");
}

}  // namespace
}  // namespace cascade::amf0
