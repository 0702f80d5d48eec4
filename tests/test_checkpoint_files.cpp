// Checkpoint files against hostile input (issue 13): the loader refuses what the safetensors
// schema cannot hold (nesting, more dims than xgrad has, duplicate fields) as soon as it sees
// it, and reads many entries in linear time.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <vector>
#include <xgrad/xgrad.hpp>

#include "temp_files.hpp"

namespace {

namespace fs = std::filesystem;
using xg_test::TempDir;
using xg_test::write_bytes;

std::string le64(std::uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i) s[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

// A safetensors file: the header's length, the header, the data.
std::string st_file(const std::string& header, const std::string& data = "") {
  return le64(header.size()) + header + data;
}

// The message of the E that fn throws; a failure if it throws anything else or nothing.
template <class E>
std::string message_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw " << typeid(e).name() << ": " << e.what();
    return {};
  }
  ADD_FAILURE() << "did not throw";
  return {};
}

// The message of loading a file with this header and data.
std::string load_message(const TempDir& dir, const std::string& header,
                         const std::string& data = "") {
  const std::string path = dir.file("bad.safetensors");
  write_bytes(path, st_file(header, data));
  return message_of<std::invalid_argument>([&] { xg::load(path); });
}

std::string bad(const TempDir& dir) {
  return "load: " + dir.file("bad.safetensors") + " is not a valid safetensors file: ";
}

// `"name":{"dtype":"F32","shape":<shape>,"data_offsets":[begin,end]}`.
std::string f32_entry(const std::string& name, const std::string& shape, std::uint64_t begin,
                      std::uint64_t end) {
  std::string out = "\"";
  out += name;
  out += R"(":{"dtype":"F32","shape":)";
  out += shape;
  out += R"(,"data_offsets":[)";
  out += std::to_string(begin);
  out += ',';
  out += std::to_string(end);
  out += "]}";
  return out;
}

// A header of one F32 tensor named w.
std::string header_of_w(const std::string& shape, std::uint64_t begin, std::uint64_t end) {
  std::string out = "{";
  out += f32_entry("w", shape, begin, end);
  out += '}';
  return out;
}

// ---- the loader ----------------------------------------------------------------------------

// Nesting deeper than the schema ({name: {field: [size, ...]}}) is refused where it starts,
// with the message of the field it is in, before the rest is read; unterminated, so that a
// parser that reads to the end reports a JSON error instead.
TEST(CheckpointHeader, NestingDeeperThanTheSchemaIsRefusedWhereItStarts) {
  TempDir dir;
  const std::string arrays(1'000'000, '[');
  std::string objects;
  for (int k = 0; k < 200'000; ++k) objects += R"({"a":)";
  struct Case {
    std::string header, reason;
  };
  const std::vector<Case> cases = {
      {R"({"a":)" + arrays, "tensor 'a' must have exactly dtype, shape and data_offsets"},
      {R"({"a":)" + objects, "tensor 'a' must have exactly dtype, shape and data_offsets"},
      {R"({"__metadata__":)" + arrays, "__metadata__ is not an object"},
      {R"({"__metadata__":{"k":)" + objects, "__metadata__ value 'k' is not a string"},
      {R"({"w":{"dtype":)" + arrays, "tensor 'w': dtype is not a string"},
      {R"({"w":{"shape":)" + objects, "tensor 'w': shape is not an array"},
      {R"({"w":{"shape":[)" + arrays, "tensor 'w': shape holds a non-integer or negative"},
      {R"({"w":{"shape":[1,)" + objects, "tensor 'w': shape holds a non-integer or negative"},
      {R"({"w":{"data_offsets":)" + objects,
       "tensor 'w': data_offsets must be two non-negative integers"},
      {R"({"w":{"data_offsets":[0,)" + arrays,
       "tensor 'w': data_offsets must be two non-negative integers"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.header.substr(0, 30));
    EXPECT_EQ(load_message(dir, c.header), bad(dir) + c.reason);
  }
}

TEST(CheckpointHeader, MoreDimsThanXgradSupportsAreRefused) {
  TempDir dir;
  auto ones = [](int n) {
    std::string s = "[1";
    for (int k = 1; k < n; ++k) s += ",1";
    return s + "]";
  };
  const std::string path = dir.file("dims.safetensors");
  write_bytes(path, st_file(header_of_w(ones(16), 0, 4), std::string(4, '\0')));
  EXPECT_EQ(xg::load(path).at("w").dim(), 16);
  const std::string reason = "tensor 'w': shape has more than 16 dims, xgrad's limit";
  EXPECT_EQ(load_message(dir, header_of_w(ones(17), 0, 4), std::string(4, '\0')),
            bad(dir) + reason);
  // Refused at the 17th size, before the rest (unterminated here) is read.
  std::string many = ones(1'000'000);
  many.pop_back();
  EXPECT_EQ(load_message(dir, R"({"w":{"dtype":"F32","shape":)" + many), bad(dir) + reason);
}

TEST(CheckpointHeader, ATensorFieldTwiceIsRefused) {
  TempDir dir;
  const std::string data(4, '\0');
  EXPECT_EQ(load_message(dir,
                         R"({"w":{"dtype":"F64","dtype":"F32","shape":[1],)"
                         R"("data_offsets":[0,4]}})",
                         data),
            bad(dir) + "tensor 'w' has dtype twice");
  EXPECT_EQ(load_message(dir,
                         R"({"w":{"dtype":"F32","shape":[2],"shape":[1],)"
                         R"("data_offsets":[0,4]}})",
                         data),
            bad(dir) + "tensor 'w' has shape twice");
  EXPECT_EQ(load_message(dir,
                         R"({"w":{"data_offsets":[0,8],"dtype":"F32","shape":[1],)"
                         R"("data_offsets":[0,4]}})",
                         data),
            bad(dir) + "tensor 'w' has data_offsets twice");
}

TEST(CheckpointHeader, AMetadataKeyTwiceIsRefused) {
  TempDir dir;
  EXPECT_EQ(load_message(dir, R"({"__metadata__":{"step":"1","step":"2"}})"),
            bad(dir) + "__metadata__ names 'step' twice");
  EXPECT_EQ(load_message(dir, R"({"__metadata__":{},"__metadata__":{}})"),
            bad(dir) + "the header names '__metadata__' twice");
}

// 50,000 entries load with their values; a duplicate name among them is found. (The callback
// parser used before took time quadratic in the number of entries here.)
TEST(CheckpointHeader, ManyEntriesLoadAndADuplicateAmongThemIsFound) {
  TempDir dir;
  constexpr int n = 50'000;
  auto name_of = [](int k) {
    std::string name = "t";
    name += std::to_string(k);
    return name;
  };
  std::string header = R"({"__metadata__":{"format":"pt"})";
  std::string data;
  for (int k = 0; k < n; ++k) {
    header += ',';
    header += f32_entry(name_of(k), "[1]", 4 * k, 4 * k + 4);
    const float v = static_cast<float>(k);
    data.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  const std::string path = dir.file("many.safetensors");
  write_bytes(path, st_file(header + "}", data));
  xg::Metadata meta;
  const xg::TensorMap tensors = xg::load(path, &meta);
  ASSERT_EQ(tensors.size(), static_cast<std::size_t>(n));
  EXPECT_EQ(meta.at("format"), "pt");
  for (int k : {0, 1, 9'999, n - 1}) {
    EXPECT_EQ(tensors.at(name_of(k)).item<float>(), static_cast<float>(k));
  }
  EXPECT_EQ(load_message(dir, header + "," + f32_entry("t123", "[0]", 0, 0) + "}", data),
            bad(dir) + "the header names 't123' twice");
}

// The element count and the size in bytes must fit in int64 over the whole product, whatever
// the order of the sizes: a zero first does not hide a product that overflows.
TEST(CheckpointHeader, ShapeOverflowIsRefusedWhateverTheOrderOfSizes) {
  TempDir dir;
  const std::string reason = "tensor 'w': shape is too large";
  for (const std::string shape :
       {"[0,4611686018427387905,4]", "[4611686018427387905,4,0]", "[4,0,4611686018427387905]",
        "[0,2305843009213693952]", "[2305843009213693952,0]", "[0,9223372036854775808]"}) {
    SCOPED_TRACE(shape);
    EXPECT_EQ(load_message(dir, header_of_w(shape, 0, 0)), bad(dir) + reason);
  }
  // The largest that fit: 2^61 - 1 F32 elements are 2^63 - 4 bytes.
  const std::string path = dir.file("empty.safetensors");
  for (const std::string shape : {"[0,2305843009213693951]", "[3,0,5]", "[1099511627776,0]"}) {
    SCOPED_TRACE(shape);
    write_bytes(path, st_file(header_of_w(shape, 0, 0)));
    EXPECT_EQ(xg::load(path).at("w").numel(), 0);
  }
}

// The reference implementation's MAX_HEADER_SIZE, 100,000,000 bytes, refused before reading.
TEST(CheckpointHeader, TheHeaderLimitIsOneHundredMillionBytes) {
  TempDir dir;
  const std::string path = dir.file("big.safetensors");
  for (const std::uint64_t length : {std::uint64_t{100'000'000}, std::uint64_t{100'000'001}}) {
    SCOPED_TRACE(length);
    write_bytes(path, le64(length) + "{");
    fs::resize_file(path, 8 + length);  // sparse: takes no disk space
    const std::string message = message_of<std::invalid_argument>([&] { xg::load(path); });
    const std::string too_large = "the header is larger than 100000000 bytes, the format's limit";
    if (length > 100'000'000) {
      EXPECT_EQ(message, "load: " + path + " is not a valid safetensors file: " + too_large);
    } else {  // read and parsed: a NUL byte after the '{'
      EXPECT_NE(message.find("not valid JSON"), std::string::npos) << message;
    }
  }
}

}  // namespace
