// Internal: the JSON header of a safetensors file, read in one pass against the format's schema.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "../tensor/dtype.hpp"
#include "../tensor/shape.hpp"

namespace xg::detail {

// One tensor's entry: its dtype, its shape and its bytes [begin, end) in the data buffer.
struct SafetensorsEntry {
  Dtype dtype = Dtype::Float32;
  Shape shape;
  std::uint64_t begin = 0, end = 0;
};

struct SafetensorsHeader {
  std::map<std::string, SafetensorsEntry> tensors;
  std::map<std::string, std::string> metadata;
};

// "F32", "F64", "I64" or "BOOL", the format's names of xgrad's dtypes.
const char* safetensors_dtype(Dtype dtype);

// Whether `text` is well-formed UTF-8 (Unicode's table 3-7: no overlong forms, no surrogates,
// nothing past U+10FFFF), as the JSON of a header must be.
bool is_utf8(const std::string& text);

// Throws std::invalid_argument "load: <path> is not a valid safetensors file: <why>".
[[noreturn]] void bad_safetensors(const std::string& path, const std::string& why);

// Parses and checks a header: {"__metadata__": {str: str}, name: {"dtype": str,
// "shape": [uint, ...], "data_offsets": [uint, uint]}, ...}. Each tensor's offsets must hold
// its shape's bytes (their place in the data buffer is the caller's to check). Refuses what the
// schema cannot hold (deeper nesting, a name or a field twice, more dims than xgrad supports)
// as soon as it is read, so time and memory stay linear in the header's length whatever it
// holds. Throws with bad_safetensors's message, naming the file `path`.
SafetensorsHeader parse_safetensors_header(const std::string& text, const std::string& path);

}  // namespace xg::detail
