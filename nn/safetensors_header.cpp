#include "safetensors_header.hpp"

#include <cstddef>
#include <limits>
#include <nlohmann/json.hpp>

#include "../tensor/check.hpp"
#include "../tensor/strided_loop.hpp"  // kMaxDims

namespace xg::detail {

const char* safetensors_dtype(Dtype dtype) {
  switch (dtype) {
    case kFloat32:
      return "F32";
    case kFloat64:
      return "F64";
    case kBool:
      return "BOOL";
    default:
      return "I64";
  }
}

void bad_safetensors(const std::string& path, const std::string& why) {
  fail<std::invalid_argument>("load: ", path, " is not a valid safetensors file: ", why);
}

bool is_utf8(const std::string& text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  for (std::size_t i = 0; i < n;) {
    const unsigned c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t length = 0;
    unsigned low = 0x80, high = 0xbf;  // the range of the second byte
    if (c >= 0xc2 && c <= 0xdf) {
      length = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      length = 3;
      if (c == 0xe0) low = 0xa0;
      if (c == 0xed) high = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      length = 4;
      if (c == 0xf0) low = 0x90;
      if (c == 0xf4) high = 0x8f;
    } else {
      return false;
    }
    if (n - i < length || s[i + 1] < low || s[i + 1] > high) return false;
    for (std::size_t k = 2; k < length; ++k) {
      if ((s[i + k] & 0xc0) != 0x80) return false;
    }
    i += length;
  }
  return true;
}

namespace {

using json = nlohmann::json;
constexpr std::uint64_t kInt64Max = std::numeric_limits<std::int64_t>::max();

// An nlohmann::json SAX handler that checks each event against the schema and stops at the
// first that does not fit (nlohmann's DOM and callback parsers build the whole document first,
// and the callback parser rescans an object after each of its entries). The schema fixes the
// parent of every container, so the state is the container being read and the slot its next
// value fills.
class HeaderReader {
 public:
  bool null() { return refuse(); }
  bool boolean(bool) { return refuse(); }
  bool number_integer(json::number_integer_t) { return refuse(); }  // only negatives come here
  bool number_float(json::number_float_t, const json::string_t&) { return refuse(); }
  bool binary(json::binary_t&) { return refuse(); }

  bool number_unsigned(json::number_unsigned_t value) {
    if (slot_ == Slot::ShapeSize) {
      if (entry_->shape.size() == static_cast<std::size_t>(kMaxDims)) {
        return fail(where() + ": shape has more than " + std::to_string(kMaxDims) +
                    " dims, xgrad's limit");
      }
      if (value > kInt64Max) return fail(where() + ": shape is too large");
      entry_->shape.push_back(static_cast<std::int64_t>(value));
      return true;
    }
    if (slot_ == Slot::Offset && offsets_read_ < 2) {
      (offsets_read_++ == 0 ? entry_->begin : entry_->end) = value;
      return true;
    }
    return refuse();
  }

  bool string(json::string_t& value) {
    if (slot_ == Slot::MetadataValue) {
      header_.metadata.emplace(metadata_key_, value);
      return true;
    }
    if (slot_ != Slot::Dtype) return refuse();
    for (Dtype d : {kFloat32, kFloat64, kInt64, kBool}) {
      if (value == safetensors_dtype(d)) {
        entry_->dtype = d;
        return true;
      }
    }
    return fail(where() + ": dtype " + value + " is not supported (F32, F64, I64, BOOL)");
  }

  bool start_object(std::size_t) {
    switch (slot_) {
      case Slot::Root:
        in_ = In::Top;
        return true;
      case Slot::Metadata:
        in_ = In::Metadata;
        return true;
      case Slot::Tensor:
        in_ = In::Tensor;
        has_dtype_ = has_shape_ = has_offsets_ = false;
        return true;
      default:
        return refuse();
    }
  }

  bool key(json::string_t& name) {
    if (in_ == In::Top && name == "__metadata__") {
      if (has_metadata_) return fail("the header names '__metadata__' twice");
      has_metadata_ = true;
      slot_ = Slot::Metadata;
    } else if (in_ == In::Top) {
      const auto [it, inserted] = header_.tensors.try_emplace(name);
      if (!inserted) return fail("the header names '" + name + "' twice");
      name_ = &it->first;
      entry_ = &it->second;
      slot_ = Slot::Tensor;
    } else if (in_ == In::Metadata) {
      if (header_.metadata.count(name)) return fail("__metadata__ names '" + name + "' twice");
      metadata_key_ = name;
      slot_ = Slot::MetadataValue;
    } else if (name == "dtype") {  // in a tensor's entry
      return field(has_dtype_, Slot::Dtype, name);
    } else if (name == "shape") {
      return field(has_shape_, Slot::Shape, name);
    } else if (name == "data_offsets") {
      return field(has_offsets_, Slot::Offsets, name);
    } else {
      return fail(where() + " must have exactly dtype, shape and data_offsets");
    }
    return true;
  }

  bool end_object() {
    if (in_ == In::Tensor) {
      if (!(has_dtype_ && has_shape_ && has_offsets_)) {
        return fail(where() + " must have exactly dtype, shape and data_offsets");
      }
      if (!sizes_fit()) return false;
    }
    in_ = in_ == In::Top ? In::Nothing : In::Top;
    slot_ = Slot::None;
    return true;
  }

  bool start_array(std::size_t) {
    if (slot_ == Slot::Shape) {
      slot_ = Slot::ShapeSize;
    } else if (slot_ == Slot::Offsets) {
      slot_ = Slot::Offset;
      offsets_read_ = 0;
    } else {
      return refuse();
    }
    in_ = In::Array;
    return true;
  }

  bool end_array() {
    if (slot_ == Slot::Offset && offsets_read_ != 2) return refuse();
    in_ = In::Tensor;
    slot_ = Slot::None;
    return true;
  }

  bool parse_error(std::size_t, const std::string&, const json::exception& e) {
    return fail(std::string("the header is not valid JSON (") + e.what() + ")");
  }

  SafetensorsHeader& header() { return header_; }
  const std::string& error() const { return error_; }

 private:
  enum class In { Nothing, Top, Metadata, Tensor, Array };
  // What the next value is: the whole header, __metadata__, one of its values, a tensor's
  // entry, one of its fields, a size in its shape or an offset. None: only a key or an end.
  enum class Slot {
    Root,
    Metadata,
    MetadataValue,
    Tensor,
    Dtype,
    Shape,
    ShapeSize,
    Offsets,
    Offset,
    None
  };

  bool fail(std::string why) {
    error_ = std::move(why);
    return false;
  }

  std::string where() const { return "tensor '" + *name_ + "'"; }

  // A value that the slot cannot hold: an array or object where the schema has none, included.
  bool refuse() {
    switch (slot_) {
      case Slot::Metadata:
        return fail("__metadata__ is not an object");
      case Slot::MetadataValue:
        return fail("__metadata__ value '" + metadata_key_ + "' is not a string");
      case Slot::Tensor:
        return fail(where() + " must have exactly dtype, shape and data_offsets");
      case Slot::Dtype:
        return fail(where() + ": dtype is not a string");
      case Slot::Shape:
        return fail(where() + ": shape is not an array");
      case Slot::ShapeSize:
        return fail(where() + ": shape holds a non-integer or negative");
      case Slot::Offsets:
      case Slot::Offset:
        return fail(where() + ": data_offsets must be two non-negative integers");
      default:  // Root or None: the parser reports a value where none may be
        return fail("the header is not a JSON object");
    }
  }

  // A tensor's field named `key`; the JSON parser would keep the last of two.
  bool field(bool& seen, Slot slot, const std::string& key) {
    if (seen) return fail(where() + " has " + key + " twice");
    seen = true;
    slot_ = slot;
    return true;
  }

  // The element count and the byte size must fit in int64, by the check every shape passes
  // (check_shape: a size 0 does not hide the others).
  bool sizes_fit() {
    const std::uint64_t element = element_size(entry_->dtype);
    std::uint64_t numel = 0;
    try {
      numel = static_cast<std::uint64_t>(check_shape(entry_->shape, "load", element));
    } catch (const std::invalid_argument&) {
      return fail(where() + ": shape is too large");
    }
    const SafetensorsEntry& e = *entry_;
    if (e.end < e.begin || e.end - e.begin != numel * element) {
      return fail(where() + ": data_offsets [" + std::to_string(e.begin) + ", " +
                  std::to_string(e.end) + "] do not hold " + std::to_string(numel) +
                  " elements of " + safetensors_dtype(e.dtype));
    }
    return true;
  }

  SafetensorsHeader header_;
  std::string error_;
  In in_ = In::Nothing;
  Slot slot_ = Slot::Root;
  bool has_metadata_ = false;
  std::string metadata_key_;
  const std::string* name_ = nullptr;  // the tensor being read, and its entry
  SafetensorsEntry* entry_ = nullptr;
  bool has_dtype_ = false, has_shape_ = false, has_offsets_ = false;
  int offsets_read_ = 0;
};

}  // namespace

SafetensorsHeader parse_safetensors_header(const std::string& text, const std::string& path) {
  if (text.empty() || text.front() != '{') bad_safetensors(path, "the header is not a JSON object");
  HeaderReader reader;
  if (!json::sax_parse(text, &reader)) bad_safetensors(path, reader.error());
  return std::move(reader.header());
}

}  // namespace xg::detail
