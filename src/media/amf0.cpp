#include "media/amf0.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "core/byte_writer.h"

namespace cascade::amf0 {

// ---------------------------------------------------------------------------
// Value

Value Value::number(double v) {
  Value out(Type::kNumber);
  out.number_ = v;
  return out;
}

Value Value::boolean(bool v) {
  Value out(Type::kBoolean);
  out.bool_ = v;
  return out;
}

Value Value::string(std::string v) {
  Value out(Type::kString);
  out.string_ = std::move(v);
  return out;
}

Value Value::null() {
  return Value(Type::kNull);
}
Value Value::undefined() {
  return Value(Type::kUndefined);
}
Value Value::object() {
  return Value(Type::kObject);
}
Value Value::ecma_array() {
  return Value(Type::kEcmaArray);
}
Value Value::strict_array() {
  return Value(Type::kStrictArray);
}

Value Value::date(double ms_since_epoch) {
  Value out(Type::kDate);
  out.number_ = ms_since_epoch;
  return out;
}

double Value::as_number() const {
  return (type_ == Type::kNumber || type_ == Type::kDate) ? number_ : 0.0;
}

bool Value::as_bool() const {
  return type_ == Type::kBoolean && bool_;
}

const std::string& Value::as_string() const {
  static const std::string kEmpty;
  return type_ == Type::kString ? string_ : kEmpty;
}

const Value* Value::get(std::string_view key) const {
  if (!is_object()) return nullptr;
  for (const auto& [name, value] : properties_) {
    if (name == key) return &value;
  }
  return nullptr;
}

Value& Value::set(std::string key, Value v) {
  if (!is_object()) *this = object();
  for (auto& [name, value] : properties_) {
    if (name == key) {
      value = std::move(v);
      return *this;
    }
  }
  properties_.emplace_back(std::move(key), std::move(v));
  return *this;
}

Value& Value::push(Value v) {
  if (!is_strict_array()) *this = strict_array();
  elements_.push_back(std::move(v));
  return *this;
}

bool Value::operator==(const Value& other) const {
  if (type_ != other.type_) return false;
  switch (type_) {
    case Type::kNumber:
    case Type::kDate:
      return number_ == other.number_;
    case Type::kBoolean:
      return bool_ == other.bool_;
    case Type::kString:
      return string_ == other.string_;
    case Type::kObject:
    case Type::kEcmaArray:
      return properties_ == other.properties_;
    case Type::kStrictArray:
      return elements_ == other.elements_;
    case Type::kNull:
    case Type::kUndefined:
      return true;
  }
  return false;
}

namespace {

void append_quoted(std::string_view s, std::string& out) {
  out.push_back('"');
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

}  // namespace

void Value::append_to(std::string& out) const {
  switch (type_) {
    case Type::kNumber:
      out += fmt::format("{}", number_);
      return;
    case Type::kBoolean:
      out += bool_ ? "true" : "false";
      return;
    case Type::kString:
      append_quoted(string_, out);
      return;
    case Type::kObject:
    case Type::kEcmaArray: {
      out.push_back('{');
      bool first = true;
      for (const auto& [name, value] : properties_) {
        if (!first) out.push_back(',');
        first = false;
        append_quoted(name, out);
        out.push_back(':');
        value.append_to(out);
      }
      out.push_back('}');
      return;
    }
    case Type::kStrictArray: {
      out.push_back('[');
      for (size_t i = 0; i < elements_.size(); ++i) {
        if (i) out.push_back(',');
        elements_[i].append_to(out);
      }
      out.push_back(']');
      return;
    }
    case Type::kNull:
      out += "null";
      return;
    case Type::kUndefined:
      out += "undefined";
      return;
    case Type::kDate:
      out += fmt::format("Date({})", number_);
      return;
  }
}

std::string Value::to_string() const {
  std::string out;
  append_to(out);
  return out;
}

// ---------------------------------------------------------------------------
// Decoding

namespace detail {

class Decoder {
 public:
  explicit Decoder(ByteReader& reader) : r_(reader) {}

  Result<Value> value(int depth) {
    if (++values_ > kMaxValues) {
      return make_error("AMF0 input has more than {} values", kMaxValues);
    }
    if (r_.empty()) return make_error("truncated AMF0 value (missing type marker)");
    uint8_t marker = r_.u8();
    switch (static_cast<Marker>(marker)) {
      case Marker::kNumber: {
        // AMF0 spec 2.2: number-type = number-marker DOUBLE
        double v = r_.f64be();
        if (!r_.ok()) return make_error("truncated AMF0 number");
        return Value::number(v);
      }
      case Marker::kBoolean: {
        // AMF0 spec 2.3: boolean-type = boolean-marker U8 (0 false, else true)
        uint8_t v = r_.u8();
        if (!r_.ok()) return make_error("truncated AMF0 boolean");
        return Value::boolean(v != 0);
      }
      case Marker::kString: {
        // AMF0 spec 2.4: string-type = string-marker UTF-8 (U16 length)
        auto s = utf8(r_.u16be(), "string");
        if (!s.ok()) return s.error();
        return Value::string(std::move(s).value());
      }
      case Marker::kLongString:
      case Marker::kXmlDocument: {
        // AMF0 spec 2.14 / 2.17: UTF-8-long (U32 length)
        const char* what = marker == 0x0C ? "long string" : "XML document";
        auto s = utf8(r_.u32be(), what);
        if (!s.ok()) return s.error();
        return Value::string(std::move(s).value());
      }
      case Marker::kObject:
        // AMF0 spec 2.5: object-type = object-marker *(object-property)
        return properties(Value::object(), depth, "object", false);
      case Marker::kTypedObject: {
        // AMF0 spec 2.18: typed-object-type = marker class-name *(object-property)
        auto name = utf8(r_.u16be(), "typed object");
        if (!name.ok()) return name.error();
        return properties(Value::object(), depth, "typed object", false);
      }
      case Marker::kEcmaArray: {
        // AMF0 spec 2.10: ecma-array-type = marker U32 *(object-property).
        // The associative-count is a hint only (encoders get it wrong), so
        // properties are read until the object-end marker.
        r_.u32be();
        if (!r_.ok()) return make_error("truncated AMF0 ECMA array");
        return properties(Value::ecma_array(), depth, "ECMA array", true);
      }
      case Marker::kStrictArray:
        return strict_array(depth);
      case Marker::kDate: {
        // AMF0 spec 2.13: date-type = date-marker DOUBLE time-zone (S16, unused)
        double ms = r_.f64be();
        r_.u16be();
        if (!r_.ok()) return make_error("truncated AMF0 date");
        return Value::date(ms);
      }
      case Marker::kNull:
        return Value::null();  // AMF0 spec 2.7
      case Marker::kUndefined:
        return Value::undefined();  // AMF0 spec 2.8
      case Marker::kReference:
        return make_error("AMF0 references are not supported");  // AMF0 spec 2.9
      case Marker::kAvmPlus:
        return make_error("AMF3 value (avmplus marker) not supported");  // AMF0 spec 3.1
      case Marker::kMovieClip:
        return make_error("AMF0 movieclip marker (0x04) is reserved and not supported");
      case Marker::kRecordSet:
        return make_error("AMF0 recordset marker (0x0E) is reserved and not supported");
      case Marker::kUnsupported:
        return make_error("AMF0 unsupported marker (0x0D) cannot be decoded");
      case Marker::kObjectEnd:
        return make_error("unexpected AMF0 object-end marker");
    }
    return make_error("unknown AMF0 type marker 0x{:02x}", marker);
  }

 private:
  Result<std::string> utf8(uint32_t length, const char* what) {
    if (!r_.ok()) return make_error("truncated AMF0 {}", what);
    if (length > r_.remaining()) return make_error("truncated AMF0 {}", what);
    std::string_view s = r_.string(length);
    return std::string(s);
  }

  // AMF0 spec 2.5: object-property = (UTF-8 value-type) | (UTF-8-empty object-end-marker)
  Result<Value> properties(Value out, int depth, const char* what, bool end_optional) {
    if (depth >= kMaxDepth) return make_error("AMF0 nesting deeper than {}", kMaxDepth);
    for (;;) {
      // Some encoders omit the end marker of a trailing ECMA array.
      if (end_optional && r_.empty()) return out;
      uint16_t key_length = r_.u16be();
      if (!r_.ok()) return make_error("truncated AMF0 {}", what);
      if (key_length == 0 && r_.remaining() > 0 &&
          r_.rest()[0] == static_cast<uint8_t>(Marker::kObjectEnd)) {
        r_.u8();  // AMF0 spec 2.11: object-end-type = UTF-8-empty object-end-marker
        return out;
      }
      auto key = utf8(key_length, what);
      if (!key.ok()) return key.error();
      if (r_.empty()) return make_error("truncated AMF0 {}", what);
      auto v = value(depth + 1);
      if (!v.ok()) return v.error();
      // Duplicate keys are kept in wire order; get() returns the first.
      out.properties_.emplace_back(std::move(key).value(), std::move(v).value());
    }
  }

  // AMF0 spec 2.12: strict-array-type = array-marker array-count *(value-type)
  Result<Value> strict_array(int depth) {
    uint32_t count = r_.u32be();
    if (!r_.ok()) return make_error("truncated AMF0 strict array");
    if (depth >= kMaxDepth) return make_error("AMF0 nesting deeper than {}", kMaxDepth);
    // Every element takes at least one byte, so the count is bounded by the
    // input; and by the value budget, which bounds the reserve() below.
    if (count > r_.remaining()) {
      return make_error("truncated AMF0 strict array ({} elements, {} bytes left)", count,
                        r_.remaining());
    }
    if (count > kMaxValues - values_) {
      return make_error("AMF0 input has more than {} values", kMaxValues);
    }
    Value out = Value::strict_array();
    out.elements().reserve(count);
    for (uint32_t i = 0; i < count; ++i) {
      auto v = value(depth + 1);
      if (!v.ok()) return v.error();
      out.elements().push_back(std::move(v).value());
    }
    return out;
  }

  ByteReader& r_;
  size_t values_ = 0;
};

}  // namespace detail

Result<Value> decode(ByteReader& reader) {
  detail::Decoder decoder(reader);
  return decoder.value(0);
}

Result<std::vector<Value>> decode_all(std::span<const uint8_t> bytes) {
  ByteReader reader(bytes);
  detail::Decoder decoder(reader);
  std::vector<Value> out;
  while (!reader.empty()) {
    auto v = decoder.value(0);
    if (!v.ok()) return v.error();
    out.push_back(std::move(v).value());
  }
  return out;
}

// ---------------------------------------------------------------------------
// Encoding

namespace {

constexpr size_t kMaxShortString = 0xFFFF;

void encode_key(std::string_view key, ByteWriter& w) {
  key = key.substr(0, kMaxShortString);
  w.u16be(static_cast<uint16_t>(key.size()));
  w.string(key);
}

void encode_properties(const std::vector<Value::Property>& props, std::vector<uint8_t>& out) {
  ByteWriter w(out);
  for (const auto& [name, value] : props) {
    encode_key(name, w);
    encode(value, out);
  }
  // AMF0 spec 2.11: UTF-8-empty object-end-marker
  w.u16be(0);
  w.u8(static_cast<uint8_t>(Marker::kObjectEnd));
}

}  // namespace

void encode(const Value& v, std::vector<uint8_t>& out) {
  ByteWriter w(out);
  switch (v.type()) {
    case Value::Type::kNumber:
      w.u8(static_cast<uint8_t>(Marker::kNumber));
      w.f64be(v.as_number());
      return;
    case Value::Type::kBoolean:
      w.u8(static_cast<uint8_t>(Marker::kBoolean));
      w.u8(v.as_bool() ? 1 : 0);
      return;
    case Value::Type::kString: {
      const std::string& s = v.as_string();
      if (s.size() <= kMaxShortString) {
        w.u8(static_cast<uint8_t>(Marker::kString));
        w.u16be(static_cast<uint16_t>(s.size()));
      } else {
        // AMF0 spec 2.14: strings over 65535 bytes use the long string type.
        w.u8(static_cast<uint8_t>(Marker::kLongString));
        w.u32be(static_cast<uint32_t>(std::min<size_t>(s.size(), 0xFFFFFFFFu)));
      }
      w.string(std::string_view(s).substr(0, 0xFFFFFFFFu));
      return;
    }
    case Value::Type::kObject:
      w.u8(static_cast<uint8_t>(Marker::kObject));
      encode_properties(v.properties(), out);
      return;
    case Value::Type::kEcmaArray:
      w.u8(static_cast<uint8_t>(Marker::kEcmaArray));
      w.u32be(static_cast<uint32_t>(v.properties().size()));
      encode_properties(v.properties(), out);
      return;
    case Value::Type::kStrictArray:
      w.u8(static_cast<uint8_t>(Marker::kStrictArray));
      w.u32be(static_cast<uint32_t>(v.elements().size()));
      for (const Value& e : v.elements()) encode(e, out);
      return;
    case Value::Type::kNull:
      w.u8(static_cast<uint8_t>(Marker::kNull));
      return;
    case Value::Type::kUndefined:
      w.u8(static_cast<uint8_t>(Marker::kUndefined));
      return;
    case Value::Type::kDate:
      // AMF0 spec 2.13: time-zone is reserved and should be 0x0000.
      w.u8(static_cast<uint8_t>(Marker::kDate));
      w.f64be(v.as_number());
      w.u16be(0);
      return;
  }
}

std::vector<uint8_t> encode_all(std::initializer_list<Value> values) {
  return encode_all(std::span<const Value>(values.begin(), values.size()));
}

std::vector<uint8_t> encode_all(std::span<const Value> values) {
  std::vector<uint8_t> out;
  for (const Value& v : values) encode(v, out);
  return out;
}

}  // namespace cascade::amf0
