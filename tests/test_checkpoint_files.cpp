// Checkpoint files against hostile input and odd targets: the loader refuses what the safetensors
// schema cannot hold (nesting, more dims than xgrad has, duplicate fields) as soon as it sees it,
// and reads many entries in linear time; save writes through a symlink, refuses anything but a
// regular file, keeps the file's permission bits, works for a name of NAME_MAX characters and
// refuses a name that is not UTF-8 before writing anything.
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

// ---- save ----------------------------------------------------------------------------------

xg::TensorMap one(float v) { return {{"w", xg::full({1}, v)}}; }

float loaded(const std::string& path) { return xg::load(path).at("w").item<float>(); }

TEST(CheckpointSave, WritesThroughASymlinkToItsTarget) {
  TempDir dir;
  fs::create_directory(dir.path() / "sub");
  const std::string real = dir.file("sub/real.safetensors");
  xg::save(one(1), real);
  // Relative, absolute, a chain of two, and a dangling link (its target is created).
  fs::create_symlink("sub/real.safetensors", dir.path() / "rel");
  fs::create_symlink(real, dir.path() / "abs");
  fs::create_symlink("rel", dir.path() / "chain");
  fs::create_symlink("sub/new.safetensors", dir.path() / "dangling");
  float v = 2;
  for (const char* link : {"rel", "abs", "chain"}) {
    SCOPED_TRACE(link);
    xg::save(one(v), dir.file(link));
    EXPECT_TRUE(fs::is_symlink(dir.path() / link));
    EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(real)));
    EXPECT_EQ(loaded(real), v);
    ++v;
  }
  xg::save(one(9), dir.file("dangling"));
  EXPECT_TRUE(fs::is_symlink(dir.path() / "dangling"));
  EXPECT_EQ(loaded(dir.file("sub/new.safetensors")), 9);
  EXPECT_EQ(dir.listing(), (std::vector<std::string>{"abs", "chain", "dangling", "rel", "sub"}));
  std::vector<std::string> in_sub;
  for (const auto& e : fs::directory_iterator(dir.path() / "sub")) {
    in_sub.push_back(e.path().filename().string());
  }
  std::sort(in_sub.begin(), in_sub.end());
  EXPECT_EQ(in_sub, (std::vector<std::string>{"new.safetensors", "real.safetensors"}));
}

// 50,000 tensors and metadata round-trip. (The header was built in an ordered_json, whose
// insertions search its keys: time quadratic in the number of tensors.)
TEST(CheckpointSave, ManyTensorsRoundTrip) {
  TempDir dir;
  constexpr int n = 50'000;
  xg::TensorMap tensors;
  for (int k = 0; k < n; ++k) {
    std::string name = "layers.";
    name += std::to_string(k);
    tensors.emplace(std::move(name), xg::full({1}, static_cast<float>(k)));
  }
  const std::string path = dir.file("many.safetensors");
  xg::save(tensors, path, {{"step", "7"}});
  xg::Metadata meta;
  const xg::TensorMap got = xg::load(path, &meta);
  ASSERT_EQ(got.size(), tensors.size());
  EXPECT_EQ(meta, (xg::Metadata{{"step", "7"}}));
  for (const auto& [name, t] : tensors) ASSERT_EQ(got.at(name).item<float>(), t.item<float>());
}

TEST(CheckpointSave, ASymlinkLoopIsRefusedAndLeftAsItWas) {
  TempDir dir;
  fs::create_symlink("loop", dir.path() / "loop");
  EXPECT_EQ(message_of<std::runtime_error>([&] { xg::save(one(1), dir.file("loop")); }),
            "save: cannot write " + dir.file("loop") + ": Too many levels of symbolic links");
  EXPECT_TRUE(fs::is_symlink(dir.path() / "loop"));
  EXPECT_EQ(fs::read_symlink(dir.path() / "loop"), "loop");
  EXPECT_EQ(dir.listing(), std::vector<std::string>{"loop"});
}

// Anything but a regular file is refused before a byte is written, and stays what it was.
TEST(CheckpointSave, RefusesWhatIsNotARegularFile) {
  TempDir dir;
  const std::string fifo = dir.file("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(message_of<std::runtime_error>([&] { xg::save(one(1), fifo); }),
            "save: " + fifo + " is a FIFO, not a regular file");
  EXPECT_TRUE(fs::is_fifo(fs::symlink_status(fifo)));
  // Through a symlink: the message names the FIFO.
  fs::create_symlink("fifo", dir.path() / "to_fifo");
  EXPECT_EQ(message_of<std::runtime_error>([&] { xg::save(one(1), dir.file("to_fifo")); }),
            "save: " + fifo + " is a FIFO, not a regular file");
  EXPECT_TRUE(fs::is_symlink(dir.path() / "to_fifo"));
  fs::create_directory(dir.path() / "d");
  EXPECT_EQ(message_of<std::runtime_error>([&] { xg::save(one(1), dir.file("d")); }),
            "save: " + dir.file("d") + " is a directory, not a regular file");
  EXPECT_TRUE(fs::is_directory(dir.path() / "d"));
  EXPECT_EQ(dir.listing(), (std::vector<std::string>{"d", "fifo", "to_fifo"}));
}

// A device node of its own (the null device), so that a wrong save cannot harm /dev.
TEST(CheckpointSave, RefusesADeviceNode) {
  TempDir dir;
  const std::string null = dir.file("null");
  if (::mknod(null.c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0) {
    GTEST_SKIP() << "cannot create a device node here: " << std::strerror(errno);
  }
  EXPECT_EQ(message_of<std::runtime_error>([&] { xg::save(one(1), null); }),
            "save: " + null + " is a character device, not a regular file");
  EXPECT_TRUE(fs::is_character_file(fs::symlink_status(null)));
  EXPECT_EQ(dir.listing(), std::vector<std::string>{"null"});
}

mode_t mode_of(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0);
  return st.st_mode & 07777;
}

TEST(CheckpointSave, KeepsAnExistingFilesPermissionBits) {
  TempDir dir;
  const std::string path = dir.file("m.safetensors");
  xg::save(one(1), path);
  const mode_t mask = ::umask(0);
  ::umask(mask);
  EXPECT_EQ(mode_of(path), 0666 & ~mask);  // a new file: as any file the process creates
  for (const mode_t mode : {0600, 0640, 0604, 0664}) {
    SCOPED_TRACE(mode);
    fs::permissions(path, static_cast<fs::perms>(mode));
    xg::save(one(static_cast<float>(mode)), path);
    EXPECT_EQ(mode_of(path), mode);
    EXPECT_EQ(loaded(path), static_cast<float>(mode));
  }
}

TEST(CheckpointSave, ATargetNameOfNameMaxCharactersWorks) {
  TempDir dir;
  const long name_max = ::pathconf(dir.path().c_str(), _PC_NAME_MAX);
  ASSERT_GT(name_max, 16);
  const std::string path = dir.file(std::string(static_cast<std::size_t>(name_max), 'n'));
  xg::save(one(3), path);
  EXPECT_EQ(loaded(path), 3);
  xg::save(one(4), path);
  EXPECT_EQ(loaded(path), 4);
  EXPECT_EQ(dir.listing().size(), 1u);
}

TEST(CheckpointSave, TextThatIsNotUtf8IsRefusedBeforeWriting) {
  TempDir dir;
  const std::string path = dir.file("m.safetensors");
  // A stray continuation byte, a truncated sequence, an overlong '/', a UTF-16 surrogate,
  // a code point past U+10FFFF, a byte never used.
  for (const std::string name :
       {"w\x80", "w\xe2\x82", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "w\xff"}) {
    std::string shown;
    for (unsigned char c : name) {
      shown += c < 0x80 ? std::string(1, static_cast<char>(c)) : "\\x" + [&] {
        char hex[3];
        std::snprintf(hex, sizeof hex, "%02x", c);
        return std::string(hex);
      }();
    }
    SCOPED_TRACE(shown);
    EXPECT_EQ(message_of<std::invalid_argument>([&] {
                xg::save(xg::TensorMap{{name, xg::ones({1})}}, path);
              }),
              "save: the tensor name '" + shown + "' is not valid UTF-8");
    EXPECT_EQ(message_of<std::invalid_argument>([&] {
                xg::save(one(1), path, {{name, "v"}});
              }),
              "save: the metadata key '" + shown + "' is not valid UTF-8");
    EXPECT_EQ(message_of<std::invalid_argument>([&] {
                xg::save(one(1), path, {{"k", name}});
              }),
              "save: the metadata value of 'k' is not valid UTF-8");
  }
  EXPECT_TRUE(dir.listing().empty());
  // Valid UTF-8 of every length round-trips.
  const std::string names[] = {"w", "caf\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80"};
  xg::TensorMap tensors;
  for (const auto& n : names) tensors[n] = xg::ones({1});
  xg::save(tensors, path, {{names[1], names[3]}});
  xg::Metadata meta;
  const xg::TensorMap got = xg::load(path, &meta);
  EXPECT_EQ(got.size(), 4u);
  for (const auto& n : names) EXPECT_EQ(got.count(n), 1u);
  EXPECT_EQ(meta.at(names[1]), names[3]);
}

}  // namespace
