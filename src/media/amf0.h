// AMF0 (Action Message Format version 0, Adobe AMF0 specification, 2007):
// the value tree carried by RTMP command/data messages and FLV script tags.
//
// Decoding reads untrusted bytes: nesting depth, value count and allocations
// are bounded, and every failure is a Result error (never an assert).
// Encoding is deterministic, so encoded commands can serve as golden bytes.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/byte_reader.h"
#include "core/result.h"

namespace cascade::amf0 {

// AMF0 spec 2.1: type markers.
enum class Marker : uint8_t {
  kNumber = 0x00,
  kBoolean = 0x01,
  kString = 0x02,
  kObject = 0x03,
  kMovieClip = 0x04,
  kNull = 0x05,
  kUndefined = 0x06,
  kReference = 0x07,
  kEcmaArray = 0x08,
  kObjectEnd = 0x09,
  kStrictArray = 0x0A,
  kDate = 0x0B,
  kLongString = 0x0C,
  kUnsupported = 0x0D,
  kRecordSet = 0x0E,
  kXmlDocument = 0x0F,
  kTypedObject = 0x10,
  kAvmPlus = 0x11,
};

namespace detail {
class Decoder;
}

// Limits applied by decode()/decode_all() to untrusted input.
inline constexpr int kMaxDepth = 32;
inline constexpr size_t kMaxValues = 65536;

// The decoded shape of a value (also spelled Value::Type).
enum class Type : uint8_t {
  kNumber,
  kBoolean,
  kString,
  kObject,  // anonymous and typed objects
  kEcmaArray,
  kStrictArray,
  kNull,
  kUndefined,
  kDate,
};

// One AMF0 value. Long strings and XML documents decode as kString; typed
// objects decode as kObject (the class name is dropped).
class Value {
 public:
  using Type = amf0::Type;
  using Property = std::pair<std::string, Value>;

  Value() = default;  // undefined

  static Value number(double v);
  static Value boolean(bool v);
  static Value string(std::string v);
  static Value null();
  static Value undefined();
  static Value object();
  static Value ecma_array();
  static Value strict_array();
  // AMF0 spec 2.13: milliseconds since the Unix epoch (UTC).
  static Value date(double ms_since_epoch);

  Type type() const { return type_; }
  bool is_number() const { return type_ == Type::kNumber; }
  bool is_boolean() const { return type_ == Type::kBoolean; }
  bool is_string() const { return type_ == Type::kString; }
  // True for anonymous objects, typed objects and ECMA arrays.
  bool is_object() const { return type_ == Type::kObject || type_ == Type::kEcmaArray; }
  bool is_strict_array() const { return type_ == Type::kStrictArray; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_undefined() const { return type_ == Type::kUndefined; }
  bool is_date() const { return type_ == Type::kDate; }

  // The number (or a date's milliseconds); 0.0 for any other type.
  double as_number() const;
  // The boolean; false for any other type.
  bool as_bool() const;
  // The string; empty for any other type.
  const std::string& as_string() const;

  // The first property named `key`, or nullptr if absent or not object-like.
  const Value* get(std::string_view key) const;
  // Replaces the first property named `key`, or appends it (order is kept).
  // A value that is not object-like becomes an empty object first.
  Value& set(std::string key, Value v);
  // Properties in wire order; empty unless object-like.
  const std::vector<Property>& properties() const { return properties_; }

  // Strict array elements; empty unless a strict array.
  std::vector<Value>& elements() { return elements_; }
  const std::vector<Value>& elements() const { return elements_; }
  // Appends an element. A value that is not a strict array becomes an empty
  // strict array first.
  Value& push(Value v);

  // Deep equality (numbers compare as doubles, so NaN != NaN).
  bool operator==(const Value& other) const;

  // JSON-ish rendering for logs and test failure messages.
  std::string to_string() const;

 private:
  friend class detail::Decoder;
  explicit Value(Type type) : type_(type) {}
  void append_to(std::string& out) const;

  Type type_ = Type::kUndefined;
  bool bool_ = false;
  double number_ = 0.0;
  std::string string_;
  std::vector<Property> properties_;
  std::vector<Value> elements_;
};

// Decodes one value at the reader's position. On error the reader's position
// is unspecified.
Result<Value> decode(ByteReader& reader);

// Decodes values until `bytes` end (an RTMP command message is such a
// sequence). The value-count limit applies to the whole sequence.
Result<std::vector<Value>> decode_all(std::span<const uint8_t> bytes);

// Appends the encoding of `v`. Strings longer than 65535 bytes are encoded as
// long strings (AMF0 spec 2.14); property names are at most 65535 bytes
// (longer names are truncated).
void encode(const Value& v, std::vector<uint8_t>& out);
std::vector<uint8_t> encode_all(std::initializer_list<Value> values);
std::vector<uint8_t> encode_all(std::span<const Value> values);

}  // namespace cascade::amf0
