// safetensors checkpoints: round trips of maps and modules, the file's bytes, Bool tensors,
// training resumed bit-identically with the optimizer's state, a bad optimizer part, a hand-made
// bad file for each rule of the format, and failed saves. Expected values come from PyTorch or from
// the math, never from xgrad itself. (test_checkpoint_files.cpp covers hostile files and odd
// targets.)
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <utility>
#include <vector>
#include <xgrad/xgrad.hpp>

#include "nn_helpers.hpp"
#include "temp_files.hpp"

namespace {

namespace fs = std::filesystem;
namespace F = xg::nn::functional;
using xg::Dtype;
using xg::Shape;
using xg::Tensor;
using xg_test::make;
using xg_test::Net;
using xg_test::same_tensor;
using xg_test::values;

std::vector<unsigned char> bytes_of(const Tensor& t) {
  const void* p = nullptr;
  switch (t.dtype()) {
    case xg::kFloat32:
      p = t.data_ptr<float>();
      break;
    case xg::kFloat64:
      p = t.data_ptr<double>();
      break;
    case xg::kBool:
      p = t.data_ptr<bool>();
      break;
    default:
      p = t.data_ptr<std::int64_t>();
  }
  const auto n = static_cast<std::size_t>(t.numel()) * xg::element_size(t.dtype());
  const auto* c = static_cast<const unsigned char*>(p);
  return std::vector<unsigned char>(c, c + n);
}

// Every parameter and buffer of a module: name, dtype, shape and every byte.
struct Snapshot {
  std::vector<std::string> names;
  std::vector<Dtype> dtypes;
  std::vector<Shape> shapes;
  std::vector<std::vector<unsigned char>> bytes;
  bool operator==(const Snapshot&) const = default;
};

Snapshot snapshot(const xg::nn::Module& m) {
  Snapshot s;
  auto add = [&](const std::vector<xg::nn::NamedTensor>& items) {
    for (const auto& item : items) {
      s.names.push_back(item.name);
      s.dtypes.push_back(item.tensor.dtype());
      s.shapes.push_back(item.tensor.shape());
      s.bytes.push_back(bytes_of(item.tensor));
    }
  };
  add(m.named_parameters());
  add(m.named_buffers());
  return s;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Each group must match: a group matches when the message contains any of its alternatives
// (case-insensitively).
using Keywords = std::vector<std::vector<std::string>>;
void expect_mentions(const std::string& message, const Keywords& keywords) {
  const std::string m = lower(message);
  for (const auto& group : keywords) {
    bool found = false;
    for (const auto& alternative : group) found = found || m.find(lower(alternative)) != m.npos;
    std::string wanted;
    for (const auto& alternative : group) wanted += "'" + alternative + "' ";
    EXPECT_TRUE(found) << "the message \"" << message << "\" mentions none of " << wanted;
  }
}

// Runs f, expecting exactly exception type E; returns its message.
template <class E, class Fn>
std::string message_of(Fn&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected " << typeid(E).name() << ", got another exception: " << e.what();
    return "";
  }
  ADD_FAILURE() << "expected " << typeid(E).name() << ", nothing was thrown";
  return "";
}

using xg_test::read_bytes;
using xg_test::TempDir;

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

std::string le64(std::uint64_t v) {
  std::string s(8, '\0');
  for (int i = 0; i < 8; ++i)
    s[static_cast<std::size_t>(i)] = static_cast<char>((v >> (8 * i)) & 0xff);
  return s;
}

std::uint64_t read_le64(const std::string& s, std::size_t at = 0) {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) {
    v = (v << 8) | static_cast<unsigned char>(s[at + static_cast<std::size_t>(i)]);
  }
  return v;
}

template <class T>
std::string raw(const std::vector<T>& v) {
  std::string s(v.size() * sizeof(T), '\0');
  if (!v.empty()) std::memcpy(s.data(), v.data(), s.size());
  return s;
}

// A safetensors file made by hand: length, the header padded with spaces to 8 bytes, the data.
std::string st_file(std::string header, const std::string& data, bool pad = true) {
  if (pad) header.append((8 - header.size() % 8) % 8, ' ');
  return le64(header.size()) + header + data;
}

// ---------------------------------------------------------------------------------------------
// safetensors

void expect_same_tensor_values(const Tensor& a, const Tensor& b, const std::string& what) {
  EXPECT_EQ(a.dtype(), b.dtype()) << what;
  EXPECT_EQ(a.shape(), b.shape()) << what;
  EXPECT_EQ(bytes_of(a), bytes_of(b)) << what;
}

xg::TensorMap sample_map() {
  xg::TensorMap m;
  m["a"] = make({1.5, -0.0, 3.25, std::numeric_limits<double>::infinity(),
                 std::numeric_limits<double>::quiet_NaN(), 1e-40},
                {2, 3});
  m["b64"] = make({0.1, -2.5e300, 3.0, 4e-320}, {4}, xg::kFloat64);
  m["ids"] = make({0, -5, 0, 42}, {2, 2}, xg::kInt64);
  m["ids"].data_ptr<std::int64_t>()[2] = 9007199254740993LL;  // no double holds it
  m["scalar"] = xg::scalar_tensor(2.5);
  m["scalar_i"] = xg::scalar_tensor(-7, xg::kInt64);
  m["empty"] = xg::zeros({0, 3}, xg::kFloat64);
  m["empty1"] = xg::zeros({0}, xg::kInt64);
  m["with grad"] = make({1, 2}, {2}, xg::kFloat32, true);
  m["mask"] = xg::tensor({1, 0, 0, 1, 1}, {5}, xg::kBool);  // 5 bytes: the next data is unaligned
  m["mask0"] = xg::scalar_tensor(true, xg::kBool);
  m["mask_empty"] = xg::zeros({2, 0}, xg::kBool);
  return m;
}

TEST(SafetensorsTest, RoundTripOfAMap) {
  TempDir dir;
  const xg::TensorMap m = sample_map();
  const xg::Metadata meta = {{"format", "pt"}, {"note", "a \"quoted\" value, é"}, {"empty", ""}};
  const std::string path = dir.file("m.safetensors");
  xg::save(m, path, meta);
  xg::Metadata got_meta = {{"stale", "x"}};
  const xg::TensorMap got = xg::load(path, &got_meta);
  EXPECT_EQ(got_meta, meta);
  ASSERT_EQ(got.size(), m.size());
  for (const auto& [name, t] : m) {
    ASSERT_TRUE(got.count(name)) << name;
    expect_same_tensor_values(got.at(name), t, name);
    EXPECT_FALSE(got.at(name).requires_grad()) << name;
  }
  EXPECT_EQ(got.at("ids").data_ptr<std::int64_t>()[2], 9007199254740993LL);
  EXPECT_NO_THROW(xg::load(path));  // metadata is optional to read
  // Without metadata, and an empty map.
  xg::save(m, dir.file("n.safetensors"));
  xg::Metadata none = {{"stale", "x"}};
  EXPECT_EQ(xg::load(dir.file("n.safetensors"), &none).size(), m.size());
  EXPECT_TRUE(none.empty());
  xg::save(xg::TensorMap{}, dir.file("e.safetensors"));
  EXPECT_TRUE(xg::load(dir.file("e.safetensors")).empty());
  // The reserved name cannot name a tensor.
  EXPECT_THROW(xg::save(xg::TensorMap{{"__metadata__", xg::zeros({1})}}, dir.file("r.st")),
               std::invalid_argument);
  // Loading a missing file is an I/O error.
  EXPECT_THROW(xg::load(dir.file("missing.safetensors")), std::runtime_error);
}

TEST(SafetensorsTest, FileLayout) {
  TempDir dir;
  const xg::TensorMap m = sample_map();
  const std::string path = dir.file("m.safetensors");
  xg::save(m, path, {{"k", "v"}});
  const std::string bytes = read_bytes(path);
  ASSERT_GE(bytes.size(), 8u);
  const std::uint64_t n = read_le64(bytes);
  EXPECT_EQ(n % 8, 0u) << "header length " << n;
  ASSERT_LE(8 + n, bytes.size());
  const std::string header = bytes.substr(8, n);
  EXPECT_EQ(header.front(), '{');
  // Padding, if any, is spaces after the JSON.
  const auto last = header.find_last_not_of(' ');
  EXPECT_EQ(header[last], '}');
  const auto json = nlohmann::json::parse(header);
  ASSERT_TRUE(json.is_object());
  ASSERT_TRUE(json.contains("__metadata__"));
  EXPECT_EQ(json["__metadata__"], nlohmann::json({{"k", "v"}}));
  EXPECT_EQ(json.size(), m.size() + 1);
  const std::string data = bytes.substr(8 + n);
  std::uint64_t covered = 0;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
  for (const auto& [name, t] : m) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(json.contains(name));
    const auto& e = json[name];
    ASSERT_TRUE(e.is_object());
    EXPECT_EQ(e.size(), 3u);
    const char* dtype = t.dtype() == xg::kFloat32   ? "F32"
                        : t.dtype() == xg::kFloat64 ? "F64"
                        : t.dtype() == xg::kBool    ? "BOOL"
                                                    : "I64";
    EXPECT_EQ(e["dtype"], dtype);
    EXPECT_EQ(e["shape"].get<std::vector<std::int64_t>>(), t.shape());
    ASSERT_TRUE(e["data_offsets"].is_array());
    ASSERT_EQ(e["data_offsets"].size(), 2u);
    const auto begin = e["data_offsets"][0].get<std::uint64_t>();
    const auto end = e["data_offsets"][1].get<std::uint64_t>();
    const auto expected = bytes_of(t);
    ASSERT_EQ(end - begin, expected.size());
    ASSERT_LE(end, data.size());
    EXPECT_EQ(data.substr(begin, end - begin), std::string(expected.begin(), expected.end()));
    ranges.emplace_back(begin, end);
    covered += end - begin;
  }
  // The tensors tile the data buffer exactly.
  std::sort(ranges.begin(), ranges.end());
  std::uint64_t at = 0;
  for (const auto& [b, e] : ranges) {
    EXPECT_EQ(b, at);
    at = e;
  }
  EXPECT_EQ(covered, data.size());
  // An F32 [2] tensor holding 1.0 and -2.0 is the little-endian bytes of those floats.
  xg::save(xg::TensorMap{{"x", make({1.0, -2.0}, {2})}}, dir.file("x.safetensors"));
  const std::string xb = read_bytes(dir.file("x.safetensors"));
  const std::uint64_t xn = read_le64(xb);
  EXPECT_EQ(xb.substr(8 + xn), std::string("\x00\x00\x80\x3f\x00\x00\x00\xc0", 8));
  EXPECT_EQ(xb.size(), 8 + xn + 8);
}

// A file written by hand, tensors out of name order in both the header and the data, with
// trailing spaces in the header and integers written as JSON numbers: what another writer
// (safetensors' Python package) may produce.
TEST(SafetensorsTest, LoadsAHandWrittenFile) {
  TempDir dir;
  const std::string header =
      R"({"__metadata__":{"format":"pt"},"zeta":{"dtype":"F64","shape":[2],"data_offsets":[8,24]},)"
      R"("alpha":{"data_offsets":[0,8],"shape":[],"dtype":"I64"},)"
      R"("mid":{"dtype":"F32","shape":[1,2],"data_offsets":[24,32]},)"
      R"("none":{"dtype":"F32","shape":[2,0],"data_offsets":[32,32]}})";
  const std::string data = raw(std::vector<std::int64_t>{-3}) +
                           raw(std::vector<double>{0.5, -8.0}) +
                           raw(std::vector<float>{2.0f, 0.25f});
  write_bytes(dir.file("h.safetensors"), st_file(header, data));
  xg::Metadata meta;
  const xg::TensorMap m = xg::load(dir.file("h.safetensors"), &meta);
  EXPECT_EQ(meta, (xg::Metadata{{"format", "pt"}}));
  ASSERT_EQ(m.size(), 4u);
  EXPECT_EQ(m.at("alpha").dtype(), xg::kInt64);
  EXPECT_EQ(m.at("alpha").shape(), Shape{});
  EXPECT_EQ(m.at("alpha").item<std::int64_t>(), -3);
  EXPECT_EQ(m.at("zeta").dtype(), xg::kFloat64);
  EXPECT_EQ(values(m.at("zeta")), (std::vector<double>{0.5, -8.0}));
  EXPECT_EQ(m.at("mid").shape(), (Shape{1, 2}));
  EXPECT_EQ(values(m.at("mid")), (std::vector<double>{2.0, 0.25}));
  EXPECT_EQ(m.at("none").shape(), (Shape{2, 0}));
}

// BOOL is one byte per element, 0 or 1, as safetensors' Python package writes torch.bool; a
// byte other than 0 and 1 is refused, naming the element.
TEST(SafetensorsTest, BoolRoundTripAndLayout) {
  TempDir dir;
  const Tensor mask = xg::tensor({1, 0, 0, 1, 1, 1}, {2, 3}, xg::kBool);
  const std::string path = dir.file("mask.safetensors");
  xg::save(xg::TensorMap{{"a_mask", mask}, {"b", make({2.5}, {1})}, {"c_view", mask.t()}}, path);
  const std::string bytes = read_bytes(path);
  const std::uint64_t n = read_le64(bytes);
  const auto json = nlohmann::json::parse(bytes.substr(8, n));
  EXPECT_EQ(json["a_mask"]["dtype"], "BOOL");
  EXPECT_EQ(json["a_mask"]["data_offsets"], nlohmann::json({0, 6}));
  EXPECT_EQ(json["b"]["data_offsets"], nlohmann::json({6, 10}));
  EXPECT_EQ(bytes.substr(8 + n, 6), std::string("\x01\x00\x00\x01\x01\x01", 6));
  // A transposed view is written in its own row-major order.
  EXPECT_EQ(bytes.substr(8 + n + 10), std::string("\x01\x01\x00\x01\x00\x01", 6));
  const xg::TensorMap got = xg::load(path);
  EXPECT_EQ(got.at("a_mask").dtype(), xg::kBool);
  EXPECT_EQ(got.at("a_mask").shape(), (Shape{2, 3}));
  EXPECT_EQ(values(got.at("a_mask")), (std::vector<double>{1, 0, 0, 1, 1, 1}));
  EXPECT_EQ(values(got.at("c_view")), (std::vector<double>{1, 1, 0, 1, 0, 1}));
  EXPECT_EQ(values(got.at("b")), (std::vector<double>{2.5}));
}

TEST(SafetensorsBadFile, BoolBytesOtherThanZeroOrOne) {
  TempDir dir;
  const std::string header = R"({"m":{"dtype":"BOOL","shape":[2,2],"data_offsets":[0,4]}})";
  const std::string path = dir.file("m.safetensors");
  write_bytes(path, st_file(header, std::string("\x00\x01\x01\x01", 4)));
  EXPECT_EQ(values(xg::load(path).at("m")), (std::vector<double>{0, 1, 1, 1}));
  for (const auto& [data, message] :
       {std::pair<std::string, std::string>{std::string("\x00\x01\x01\x02", 4),
                                            "BOOL element 3 is 2, not 0 or 1"},
        {std::string("\xff\x00\x00\x00", 4), "BOOL element 0 is 255, not 0 or 1"}}) {
    write_bytes(path, st_file(header, data));
    EXPECT_EQ(message_of<std::invalid_argument>([&] { xg::load(path); }),
              "load: " + path + " is not a valid safetensors file: tensor 'm': " + message);
  }
}

struct Masked : xg::nn::Module {
  Masked() : Module("Masked") {
    w = register_parameter("w", xg::randn({3, 3}));
    causal = register_buffer("causal", xg::ones({3, 3}, xg::kBool).triu(1));
  }
  Tensor w, causal;
};

TEST(SafetensorsTest, ModuleWithABoolBufferRoundTrips) {
  TempDir dir;
  xg::manual_seed(5);
  Masked a;
  const std::string path = dir.file("masked.safetensors");
  xg::save(a, path);
  Masked b;
  b.causal.zero_();
  xg::load(b, path);
  EXPECT_EQ(values(b.causal), values(a.causal));
  EXPECT_EQ(b.causal.dtype(), xg::kBool);
  // An Int64 tensor for the Bool buffer (or the reverse) is another model's state.
  xg::TensorMap state = xg::state_dict(a);
  state["causal"] = state["causal"].to(xg::kInt64);
  EXPECT_EQ(message_of<std::invalid_argument>([&] { xg::load_state_dict(b, state); }),
            "load_state_dict: 'causal' is Int64 in the state but Bool in Masked");
}

struct Buffered : xg::nn::Module {
  Buffered() : Module("Buffered") {
    net = register_module("net", std::make_shared<Net>());
    mean = register_buffer("mean", xg::randn({3}, xg::kFloat64));
    count = register_buffer("count", xg::randint(0, 1000, {2}));
  }
  std::shared_ptr<Net> net;
  Tensor mean, count;
};

TEST(SafetensorsTest, ModuleRoundTripKeepsIdentity) {
  TempDir dir;
  xg::manual_seed(31);
  auto a = std::make_shared<Buffered>();
  const std::string path = dir.file("model.safetensors");
  xg::save(a, path);  // the shared_ptr overload
  const xg::TensorMap state = xg::load(path);
  EXPECT_EQ(state.size(), 7u);
  for (const char* name : {"net.w", "net.fc1.weight", "net.fc1.bias", "net.fc2.weight",
                           "net.fc2.bias", "mean", "count"}) {
    EXPECT_TRUE(state.count(name)) << name;
  }
  xg::manual_seed(32);
  Buffered b;
  const Snapshot before_b = snapshot(b);
  ASSERT_NE(before_b, snapshot(*a));
  const std::vector<Tensor> handles = b.parameters();
  const Tensor fc1_weight = b.net->fc1->weight;
  xg::load(b, path);
  EXPECT_EQ(snapshot(b), snapshot(*a));
  const auto after = b.parameters();
  for (std::size_t i = 0; i < handles.size(); ++i) {
    EXPECT_TRUE(same_tensor(after[i], handles[i])) << i;
    EXPECT_TRUE(handles[i].requires_grad()) << i;
    EXPECT_TRUE(handles[i].is_leaf()) << i;
  }
  EXPECT_TRUE(same_tensor(b.net->fc1->weight, fc1_weight));
  EXPECT_EQ(bytes_of(fc1_weight), bytes_of(a->net->fc1->weight));
  EXPECT_EQ(bytes_of(b.count), bytes_of(a->count));
  // The loaded module still trains: gradients reach the kept handles.
  b.net->forward(make({1, 2, 3}, {1, 3})).sum().backward();
  EXPECT_TRUE(fc1_weight.grad().defined());
  // state_dict / load_state_dict directly
  xg::manual_seed(33);
  Buffered c;
  xg::load_state_dict(c, xg::state_dict(*a));
  EXPECT_EQ(snapshot(c), snapshot(*a));
}

void train_steps(xg::nn::Module& model, xg::optim::Optimizer& opt, int steps) {
  const Tensor x = make({0.5, -1, 2, 1, 0, -0.5, 1.5, 0.25, -2, 0.75, 1, -1}, {4, 3});
  const Tensor y = make({1, -1, 0.5, 2}, {4, 1});
  for (int i = 0; i < steps; ++i) {
    opt.zero_grad();
    const Tensor loss = F::mse_loss(model.forward(x), y);
    loss.backward();
    opt.step();
  }
}

std::shared_ptr<xg::nn::Sequential> make_mlp() {
  return std::make_shared<xg::nn::Sequential>(
      std::initializer_list<std::shared_ptr<xg::nn::Module>>{
          std::make_shared<xg::nn::Linear>(3, 8), std::make_shared<xg::nn::Tanh>(),
          std::make_shared<xg::nn::Linear>(8, 1)});
}

TEST(SafetensorsTest, TrainingResumesBitIdentically) {
  using namespace xg::optim;
  const std::vector<
      std::pair<std::string, std::function<std::unique_ptr<Optimizer>(std::vector<Tensor>, bool)>>>
      optimizers = {
          {"AdamW",
           [](std::vector<Tensor> p, bool fresh) -> std::unique_ptr<Optimizer> {
             // the fresh one has other options: loading restores the saved ones
             return std::make_unique<AdamW>(
                 std::move(p), AdamWOptions(fresh ? 0.5 : 0.02).weight_decay(fresh ? 0.0 : 0.05));
           }},
          {"Adam amsgrad",
           [](std::vector<Tensor> p, bool fresh) -> std::unique_ptr<Optimizer> {
             return std::make_unique<Adam>(std::move(p),
                                           AdamOptions(fresh ? 0.5 : 0.03).amsgrad(true));
           }},
          {"SGD nesterov",
           [](std::vector<Tensor> p, bool fresh) -> std::unique_ptr<Optimizer> {
             return std::make_unique<SGD>(
                 std::move(p), SGDOptions(fresh ? 0.5 : 0.05).momentum(0.9).nesterov(true));
           }},
      };
  for (const auto& [name, make_opt] : optimizers) {
    SCOPED_TRACE(name);
    TempDir dir;
    xg::manual_seed(41);
    auto model = make_mlp();
    auto opt = make_opt(model->parameters(), false);
    train_steps(*model, *opt, 5);
    const std::string path = dir.file("ckpt.safetensors");
    xg::save(*model, *opt, path);
    // The same state in two files.
    xg::save(*model, dir.file("model.safetensors"));
    xg::save(*opt, dir.file("opt.safetensors"));
    train_steps(*model, *opt, 6);
    const Snapshot expected = snapshot(*model);

    xg::manual_seed(42);
    auto resumed = make_mlp();
    auto opt2 = make_opt(resumed->parameters(), true);
    train_steps(*resumed, *opt2, 2);  // some state of its own, to be replaced
    xg::load(*resumed, *opt2, path);
    train_steps(*resumed, *opt2, 6);
    EXPECT_EQ(snapshot(*resumed), expected);

    xg::manual_seed(43);
    auto resumed2 = make_mlp();
    auto opt3 = make_opt(resumed2->parameters(), true);
    xg::load(resumed2, dir.file("model.safetensors"));
    xg::load(*opt3, dir.file("opt.safetensors"));
    train_steps(*resumed2, *opt3, 6);
    EXPECT_EQ(snapshot(*resumed2), expected);

    // Without the optimizer state the run differs (the check above can fail).
    xg::manual_seed(44);
    auto fresh = make_mlp();
    auto opt4 = make_opt(fresh->parameters(), false);
    xg::load(fresh, dir.file("model.safetensors"));
    train_steps(*fresh, *opt4, 6);
    EXPECT_NE(snapshot(*fresh), expected);
  }
}

// A checkpoint whose optimizer part does not fit changes neither the model nor the optimizer.
TEST(SafetensorsTest, BadOptimizerPartOfACheckpointChangesNothing) {
  TempDir dir;
  xg::manual_seed(51);
  auto model = make_mlp();
  xg::optim::Adam opt(model->parameters(), xg::optim::AdamOptions(0.01));
  train_steps(*model, opt, 3);
  const std::string path = dir.file("ckpt.safetensors");
  xg::save(*model, opt, path);
  xg::Metadata meta;
  xg::TensorMap all = xg::load(path, &meta);
  std::string changed;
  for (auto& [name, t] : all) {
    if (name.rfind("optimizer.state.", 0) == 0 && t.dim() == 2) {
      t = xg::zeros({t.size(0) + 1, t.size(1)});  // a moment of the wrong shape
      changed = name;
      break;
    }
  }
  ASSERT_FALSE(changed.empty()) << "no 2-D optimizer state in the checkpoint";
  xg::save(all, dir.file("bad.safetensors"), meta);

  xg::manual_seed(52);
  auto target = make_mlp();
  xg::optim::Adam target_opt(target->parameters(), xg::optim::AdamOptions(0.01));
  train_steps(*target, target_opt, 2);
  const Snapshot before = snapshot(*target);
  const auto opt_before = target_opt.state_dict();
  EXPECT_THROW(xg::load(*target, target_opt, dir.file("bad.safetensors")), std::invalid_argument);
  EXPECT_EQ(snapshot(*target), before);
  const auto opt_after = target_opt.state_dict();
  ASSERT_EQ(opt_after.tensors.size(), opt_before.tensors.size());
  for (const auto& [name, t] : opt_before.tensors) {
    ASSERT_TRUE(opt_after.tensors.count(name)) << name;
    expect_same_tensor_values(opt_after.tensors.at(name), t, name);
  }
  // A checkpoint entry that is neither model. nor optimizer.
  all = xg::load(path, &meta);
  all["stray"] = xg::zeros({1});
  xg::save(all, dir.file("stray.safetensors"), meta);
  EXPECT_THROW(xg::load(*target, target_opt, dir.file("stray.safetensors")), std::invalid_argument);
  EXPECT_EQ(snapshot(*target), before);
}

// The tensor of one entry of a module's state_dict.
Tensor entry(const xg::nn::Module& m, const std::string& name) {
  return xg::state_dict(m).at(name);
}

// load_state_dict(strict = false), as PyTorch's: the names that match are loaded, the others are
// reported and left alone. Sequential's names are "0.weight", "0.bias", "2.weight", "2.bias".
TEST(LoadStateDictNonStrict, ReportsMissingAndUnexpectedNamesAndLoadsTheRest) {
  TempDir dir;
  xg::manual_seed(61);
  auto source = make_mlp();
  xg::TensorMap state = xg::state_dict(*source);
  state.erase("2.bias");
  state.erase("0.weight");
  state["head.weight"] = xg::zeros({2, 2});
  state["extra"] = xg::zeros({1});

  xg::manual_seed(62);
  auto target = make_mlp();
  const Snapshot before = snapshot(*target);
  const Tensor kept_weight = entry(*target, "0.weight").clone();
  const Tensor kept_bias = entry(*target, "2.bias").clone();
  // Strict: refused, nothing changed.
  EXPECT_EQ(message_of<std::invalid_argument>([&] { xg::load_state_dict(*target, state); }),
            "load_state_dict: '0.weight' of Sequential is missing from the state");
  EXPECT_EQ(snapshot(*target), before);

  const xg::IncompatibleKeys keys = xg::load_state_dict(*target, state, /*strict=*/false);
  // Missing in the module's registration order, unexpected in the state's name order.
  EXPECT_EQ(keys.missing_keys, (std::vector<std::string>{"0.weight", "2.bias"}));
  EXPECT_EQ(keys.unexpected_keys, (std::vector<std::string>{"extra", "head.weight"}));
  EXPECT_FALSE(keys.empty());
  EXPECT_EQ(bytes_of(entry(*target, "0.bias")), bytes_of(entry(*source, "0.bias")));
  EXPECT_EQ(bytes_of(entry(*target, "2.weight")), bytes_of(entry(*source, "2.weight")));
  EXPECT_EQ(bytes_of(entry(*target, "0.weight")), bytes_of(kept_weight));
  EXPECT_EQ(bytes_of(entry(*target, "2.bias")), bytes_of(kept_bias));
  EXPECT_NE(snapshot(*target), before);

  // The same through a file, with its metadata.
  const std::string path = dir.file("partial.safetensors");
  xg::save(state, path, {{"note", "partial"}});
  xg::manual_seed(63);
  auto from_file = make_mlp();
  xg::Metadata meta;
  const xg::IncompatibleKeys file_keys = xg::load(from_file, path, &meta, /*strict=*/false);
  EXPECT_EQ(file_keys.missing_keys, keys.missing_keys);
  EXPECT_EQ(file_keys.unexpected_keys, keys.unexpected_keys);
  EXPECT_EQ(meta.at("note"), "partial");
  EXPECT_EQ(bytes_of(entry(*from_file, "2.weight")), bytes_of(entry(*source, "2.weight")));
  EXPECT_THROW(xg::load(*from_file, path), std::invalid_argument);  // strict by default

  // A full state reports nothing, strict or not.
  EXPECT_TRUE(xg::load_state_dict(*target, xg::state_dict(*source), false).empty());
  EXPECT_TRUE(xg::load_state_dict(*target, xg::state_dict(*source)).empty());
  EXPECT_EQ(snapshot(*target), snapshot(*source));
}

TEST(LoadStateDictNonStrict, ShapeOrDtypeMismatchStillThrowsAndChangesNothing) {
  TempDir dir;
  xg::manual_seed(64);
  auto source = make_mlp();
  xg::TensorMap state = xg::state_dict(*source);
  state.erase("0.bias");                  // missing: allowed when not strict
  state["2.weight"] = xg::zeros({1, 9});  // a matched name of another shape: never allowed
  xg::manual_seed(65);
  auto target = make_mlp();
  const Snapshot before = snapshot(*target);
  EXPECT_EQ(message_of<std::invalid_argument>([&] { xg::load_state_dict(*target, state, false); }),
            "load_state_dict: '2.weight' has shape [1, 9] in the state but [1, 8] in Sequential");
  EXPECT_EQ(snapshot(*target), before);  // 0.weight, which matched, was not copied either
  const std::string path = dir.file("bad.safetensors");
  xg::save(state, path);
  EXPECT_THROW(xg::load(*target, path, nullptr, false), std::invalid_argument);
  EXPECT_EQ(snapshot(*target), before);

  state["2.weight"] = xg::zeros({1, 8}, xg::kInt64);
  EXPECT_EQ(message_of<std::invalid_argument>([&] { xg::load_state_dict(*target, state, false); }),
            "load_state_dict: '2.weight' is Int64 in the state but Float32 in Sequential");
  EXPECT_EQ(snapshot(*target), before);
}

// requires_grad_(false) on a module freezes its parameters: backward leaves their gradient
// undefined, and an optimizer given every parameter (frozen ones too) moves only the others, even
// with weight decay, exactly as one given only the trainable ones.
TEST(ModuleRequiresGrad, FrozenParametersStayPut) {
  xg::manual_seed(71);
  auto model = make_mlp();
  xg::manual_seed(71);
  auto twin = make_mlp();
  ASSERT_EQ(snapshot(*model), snapshot(*twin));
  auto first = model->get_submodule("0");
  EXPECT_EQ(&first->requires_grad_(false), first.get());
  twin->get_submodule("0")->requires_grad_(false);
  for (const auto& item : model->named_parameters()) {
    EXPECT_EQ(item.tensor.requires_grad(), item.name.rfind("0.", 0) != 0) << item.name;
  }
  const Tensor w0 = entry(*model, "0.weight").clone();
  const Tensor b0 = entry(*model, "0.bias").clone();
  const Tensor w2 = entry(*model, "2.weight").clone();

  xg::optim::AdamW all(model->parameters(), xg::optim::AdamWOptions(0.05).weight_decay(0.1));
  std::vector<Tensor> trainable;
  for (const auto& p : twin->parameters()) {
    if (p.requires_grad()) trainable.push_back(p);
  }
  ASSERT_EQ(trainable.size(), 2u);
  xg::optim::AdamW some(trainable, xg::optim::AdamWOptions(0.05).weight_decay(0.1));
  train_steps(*model, all, 4);
  train_steps(*twin, some, 4);
  EXPECT_FALSE(model->get_submodule("0")->get_parameter("weight").grad().defined());
  EXPECT_EQ(bytes_of(entry(*model, "0.weight")), bytes_of(w0));
  EXPECT_EQ(bytes_of(entry(*model, "0.bias")), bytes_of(b0));
  EXPECT_NE(bytes_of(entry(*model, "2.weight")), bytes_of(w2));
  EXPECT_EQ(snapshot(*model), snapshot(*twin));

  // Unfreezing: the whole model trains again.
  EXPECT_EQ(&model->requires_grad_(true), model.get());
  train_steps(*model, all, 1);
  EXPECT_NE(bytes_of(entry(*model, "0.weight")), bytes_of(w0));
}

// A tied weight is one tensor: freezing it through either module freezes it in both.
TEST(ModuleRequiresGrad, FreezingOneNameOfATiedPairFreezesTheTensor) {
  auto outer = std::make_shared<xg::nn::Sequential>();
  auto a = outer->register_module("a", std::make_shared<xg::nn::Linear>(4, 4));
  auto b = outer->register_module("b", std::make_shared<xg::nn::Linear>(4, 4));
  b->register_parameter("weight", a->weight);
  b->requires_grad_(false);
  EXPECT_FALSE(a->weight.requires_grad());
  EXPECT_FALSE(b->bias.requires_grad());
  EXPECT_TRUE(a->bias.requires_grad());
  const Tensor x = make({1, 2, 3, 4}, {1, 4});
  b->forward(a->forward(x)).sum().backward();
  EXPECT_FALSE(a->weight.grad().defined());
  EXPECT_TRUE(a->bias.grad().defined());
}

// ---- hand-made bad files ----

// The target of every bad file: weight F32 [2, 2] and bias F32 [2].
const std::string kWeight = R"("weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]})";
const std::string kBias = R"("bias":{"dtype":"F32","shape":[2],"data_offsets":[16,24]})";
const std::string kData = raw(std::vector<float>{10, 20, 30, 40, 50, 60});

std::string with_bias(const std::string& bias_entry, const std::string& data = kData) {
  return st_file("{" + kWeight + "," + bias_entry + "}", data);
}

struct BadFile {
  std::string what;
  std::string bytes;
  Keywords keywords;
  bool format_error = true;  // false: a valid file that does not fit the module
};

std::vector<BadFile> bad_files() {
  const std::string b = R"("bias":)";
  std::vector<BadFile> v;
  v.push_back({"empty file", "", {{"short", "truncated", "8-byte", "8 bytes", "too small"}}});
  v.push_back({"3 bytes",
               std::string("\x10\x00\x00", 3),
               {{"short", "truncated", "8-byte", "8 bytes", "too small"}}});
  v.push_back({"7 bytes",
               std::string(7, '\0'),
               {{"short", "truncated", "8-byte", "8 bytes", "too small"}}});
  {
    std::string f = with_bias(kBias);
    v.push_back({"header length past the end", le64(1000) + f.substr(8), {{"header"}}});
    const std::uint64_t n = read_le64(f);
    v.push_back(
        {"header length one past the end", le64(n + kData.size() + 1) + f.substr(8), {{"header"}}});
  }
  v.push_back({"header length 0", le64(0), {{"header", "json"}}});
  v.push_back({"header not JSON", st_file("{not json at all}", ""), {{"json"}}});
  v.push_back({"header not JSON (text)", st_file("hello world", ""), {{"json"}}});
  v.push_back({"header truncated JSON", st_file("{" + kWeight + "," + kBias, kData), {{"json"}}});
  v.push_back({"header a JSON array", st_file("[1, 2, 3]", ""), {{"object"}}});
  v.push_back({"header a JSON string", st_file("\"weight\"", ""), {{"object"}}});
  v.push_back({"header a JSON number", st_file("42", ""), {{"object"}}});
  v.push_back({"duplicate tensor name",
               st_file("{" + kWeight + "," + kWeight + "," + kBias + "}", kData),
               {{"weight"}, {"twice", "duplicate", "more than once", "repeated"}}});
  v.push_back({"entry not an object", with_bias(b + "[1,2]"), {{"bias"}}});
  v.push_back(
      {"missing dtype", with_bias(b + R"({"shape":[2],"data_offsets":[16,24]})"), {{"dtype"}}});
  v.push_back(
      {"missing shape", with_bias(b + R"({"dtype":"F32","data_offsets":[16,24]})"), {{"shape"}}});
  v.push_back({"missing data_offsets",
               with_bias(b + R"({"dtype":"F32","shape":[2]})"),
               {{"data_offsets"}}});
  v.push_back({"extra key",
               with_bias(b + R"({"dtype":"F32","shape":[2],"data_offsets":[16,24],"extra":1})"),
               {{"bias"}, {"extra", "exactly", "unexpected", "unknown"}}});
  v.push_back({"unsupported dtype F16",
               with_bias(b + R"({"dtype":"F16","shape":[4],"data_offsets":[16,24]})"),
               {{"F16"}}});
  v.push_back({"unsupported dtype I32",
               with_bias(b + R"({"dtype":"I32","shape":[2],"data_offsets":[16,24]})"),
               {{"I32"}}});
  v.push_back({"lowercase dtype",
               with_bias(b + R"({"dtype":"f32","shape":[2],"data_offsets":[16,24]})"),
               {{"dtype"}}});
  v.push_back({"dtype not a string",
               with_bias(b + R"({"dtype":4,"shape":[2],"data_offsets":[16,24]})"),
               {{"dtype"}}});
  v.push_back({"BOOL byte other than 0 and 1",
               st_file("{" + kWeight + "," + kBias +
                           R"(,"m":{"dtype":"BOOL","shape":[3],"data_offsets":[24,27]}})",
                       kData + std::string("\x01\x00\x02", 3)),
               {{"BOOL"}, {"element 2 is 2"}}});
  v.push_back({"negative shape",
               with_bias(b + R"({"dtype":"F32","shape":[-2],"data_offsets":[16,24]})"),
               {{"shape"}}});
  v.push_back({"negative shape with a negative partner",
               with_bias(b + R"({"dtype":"F32","shape":[-1,-2],"data_offsets":[16,24]})"),
               {{"shape"}}});
  v.push_back({"non-integer shape",
               with_bias(b + R"({"dtype":"F32","shape":[2.0],"data_offsets":[16,24]})"),
               {{"shape"}}});
  v.push_back({"shape of strings",
               with_bias(b + R"({"dtype":"F32","shape":["2"],"data_offsets":[16,24]})"),
               {{"shape"}}});
  v.push_back({"shape not an array",
               with_bias(b + R"({"dtype":"F32","shape":2,"data_offsets":[16,24]})"),
               {{"shape"}}});
  v.push_back({"shape overflowing",
               with_bias(b + R"({"dtype":"F32","shape":[4611686018427387904,4611686018427387904],)"
                             R"("data_offsets":[16,24]})"),
               {{"shape", "large", "overflow"}}});
  v.push_back({"data_offsets one integer",
               with_bias(b + R"({"dtype":"F32","shape":[2],"data_offsets":[16]})"),
               {{"data_offsets"}}});
  v.push_back({"data_offsets three integers",
               with_bias(b + R"({"dtype":"F32","shape":[2],"data_offsets":[16,24,24]})"),
               {{"data_offsets"}}});
  v.push_back({"data_offsets not integers",
               with_bias(b + R"({"dtype":"F32","shape":[2],"data_offsets":[16.0,24]})"),
               {{"data_offsets"}}});
  v.push_back({"data_offsets negative",
               with_bias(b + R"({"dtype":"F32","shape":[2],"data_offsets":[-8,24]})"),
               {{"data_offsets"}}});
  v.push_back({"data_offsets not an array",
               with_bias(b + R"({"dtype":"F32","shape":[2],"data_offsets":"16,24"})"),
               {{"data_offsets"}}});
  v.push_back({"data_offsets reversed",
               with_bias(b + R"({"dtype":"F32","shape":[2],"data_offsets":[24,16]})"),
               {{"data_offsets"}}});
  v.push_back({"data_offsets too long for the shape",
               with_bias(b + R"({"dtype":"F32","shape":[2],"data_offsets":[16,28]})",
                         kData + std::string(4, '\0')),
               {{"data_offsets"}}});
  v.push_back({"data_offsets too short for the dtype",
               with_bias(b + R"({"dtype":"F64","shape":[2],"data_offsets":[16,24]})"),
               {{"data_offsets"}}});
  v.push_back({"gap between tensors",
               with_bias(b + R"({"dtype":"F32","shape":[2],"data_offsets":[20,28]})",
                         kData + std::string(4, '\0')),
               {{"gap"}}});
  v.push_back({"gap at the start",
               st_file(R"({"weight":{"dtype":"F32","shape":[2,2],"data_offsets":[8,24]},)"
                       R"("bias":{"dtype":"F32","shape":[2],"data_offsets":[24,32]}})",
                       kData + std::string(8, '\0')),
               {{"gap"}}});
  v.push_back(
      {"overlapping tensors",
       with_bias(b + R"({"dtype":"F32","shape":[2],"data_offsets":[12,20]})", kData.substr(0, 20)),
       {{"overlap"}}});
  v.push_back(
      {"the same bytes twice",
       with_bias(b + R"({"dtype":"F32","shape":[4],"data_offsets":[0,16]})", kData.substr(0, 16)),
       {{"overlap"}}});
  v.push_back({"data longer than the tensors",
               with_bias(kBias, kData + std::string(8, '\x7f')),
               {{"32", "trailing", "longer", "unused", "left over", "8 bytes"}}});
  v.push_back({"data shorter than the tensors",
               with_bias(kBias, kData.substr(0, 20)),
               {{"20", "short", "truncated", "past the end", "beyond"}}});
  v.push_back({"__metadata__ an array",
               st_file(R"({"__metadata__":["a"],)" + kWeight + "," + kBias + "}", kData),
               {{"__metadata__"}}});
  v.push_back({"__metadata__ a string",
               st_file(R"({"__metadata__":"x",)" + kWeight + "," + kBias + "}", kData),
               {{"__metadata__"}}});
  v.push_back({"__metadata__ with a number",
               st_file(R"({"__metadata__":{"a":"b","n":1},)" + kWeight + "," + kBias + "}", kData),
               {{"__metadata__"}}});
  v.push_back({"__metadata__ with an object",
               st_file(R"({"__metadata__":{"a":{"b":"c"}},)" + kWeight + "," + kBias + "}", kData),
               {{"__metadata__"}}});
  // Valid files that do not fit the module.
  v.push_back(
      {"missing name", st_file("{" + kWeight + "}", kData.substr(0, 16)), {{"bias"}}, false});
  v.push_back({"unexpected name",
               st_file("{" + kWeight + "," + kBias +
                           R"(,"extra":{"dtype":"F32","shape":[1],"data_offsets":[24,28]}})",
                       kData + raw(std::vector<float>{70})),
               {{"extra"}},
               false});
  v.push_back(
      {"shape differs (same count)",
       st_file(R"({"weight":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)" + kBias + "}",
               kData),
       {{"weight"}},
       false});
  v.push_back({"shape differs (transposed count)",
               st_file(R"({"weight":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},)"
                       R"("bias":{"dtype":"F32","shape":[3],"data_offsets":[16,28]}})",
                       kData + raw(std::vector<float>{70})),
               {{"bias"}},
               false});
  v.push_back({"BOOL bias for a Float32 one",
               with_bias(R"("bias":{"dtype":"BOOL","shape":[2],"data_offsets":[16,18]})",
                         kData.substr(0, 16) + std::string("\x01\x00", 2)),
               {{"bias"}, {"Bool"}},
               false});
  v.push_back(
      {"shape differs (0-d)",
       st_file("{" + kWeight + R"(,"bias":{"dtype":"F32","shape":[],"data_offsets":[16,20]}})",
               kData.substr(0, 20)),
       {{"bias"}},
       false});
  return v;
}

TEST(SafetensorsBadFile, TheBaseFileIsValid) {
  // Every bad file below is this one with one thing broken.
  TempDir dir;
  write_bytes(dir.file("base"), with_bias(kBias));
  xg::nn::Linear lin(2, 2);
  xg::load(lin, dir.file("base"));
  EXPECT_EQ(values(lin.weight), (std::vector<double>{10, 20, 30, 40}));
  EXPECT_EQ(values(lin.bias), (std::vector<double>{50, 60}));
}

TEST(SafetensorsBadFile, EachRuleThrowsWithTheReasonAndChangesNothing) {
  TempDir dir;
  const auto cases = bad_files();
  ASSERT_GE(cases.size(), 40u);
  int k = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    const std::string path = dir.file("case" + std::to_string(k++));
    write_bytes(path, c.bytes);
    xg::manual_seed(61);
    xg::nn::Linear lin(2, 2);
    const Snapshot before = snapshot(lin);
    const Tensor weight = lin.weight;
    const std::string message = message_of<std::invalid_argument>([&] { xg::load(lin, path); });
    expect_mentions(message, c.keywords);
    EXPECT_EQ(snapshot(lin), before);
    EXPECT_TRUE(same_tensor(lin.weight, weight));
    if (c.format_error) {
      const std::string m2 = message_of<std::invalid_argument>([&] { xg::load(path); });
      expect_mentions(m2, c.keywords);
    } else {
      EXPECT_NO_THROW(xg::load(path));
    }
    EXPECT_EQ(read_bytes(path), c.bytes);  // loading never writes
  }
}

TEST(SafetensorsBadFile, HugeHeaderLengthIsRefusedWithoutAllocating) {
  TempDir dir;
  const std::string path = dir.file("huge");
  const std::string f = with_bias(kBias);
  write_bytes(path, le64(std::uint64_t{1} << 60) + f.substr(8));
  xg::nn::Linear lin(2, 2);
  const Snapshot before = snapshot(lin);
  const auto start = std::chrono::steady_clock::now();
  const std::string message = message_of<std::invalid_argument>([&] { xg::load(lin, path); });
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 1.0);
  expect_mentions(message, {{"header"}});
  EXPECT_EQ(snapshot(lin), before);
  // The largest length, and one that overflows 8 + length.
  write_bytes(path, le64(~std::uint64_t{0}) + f.substr(8));
  EXPECT_THROW(xg::load(path), std::invalid_argument);
  write_bytes(path, le64(~std::uint64_t{0} - 7) + f.substr(8));
  EXPECT_THROW(xg::load(path), std::invalid_argument);
}

// A shape whose elements multiply to 0 may still hold a size that is no valid int64.
TEST(SafetensorsBadFile, ShapeSizeBeyondInt64) {
  TempDir dir;
  const std::string path = dir.file("big");
  write_bytes(
      path,
      st_file(R"({"z":{"dtype":"F32","shape":[0,9223372036854775808],"data_offsets":[0,0]}})", ""));
  EXPECT_THROW(xg::load(path), std::invalid_argument);
}

TEST(SafetensorsSave, FailureLeavesTheEarlierFileAndNoTemporaries) {
  TempDir dir;
  xg::manual_seed(71);
  xg::nn::Linear lin(3, 2);
  const std::string good = dir.file("good.safetensors");
  xg::save(lin, good);
  const std::string good_bytes = read_bytes(good);
  const auto listing = dir.listing();
  ASSERT_EQ(listing, std::vector<std::string>{"good.safetensors"});

  // The parent is a file: nothing can be created.
  std::string message =
      message_of<std::runtime_error>([&] { xg::save(lin, good + "/inner.safetensors"); });
  EXPECT_FALSE(message.empty());
  // The parent does not exist.
  message_of<std::runtime_error>([&] { xg::save(lin, dir.file("missing/x.safetensors")); });
  EXPECT_EQ(dir.listing(), listing);
  EXPECT_EQ(read_bytes(good), good_bytes);

  // The target is a non-empty directory: the temporary file is written, the rename fails.
  fs::create_directory(dir.path() / "occupied");
  write_bytes(dir.file("occupied/keep"), "keep");
  message_of<std::runtime_error>([&] { xg::save(lin, dir.file("occupied")); });
  EXPECT_EQ(dir.listing(), (std::vector<std::string>{"good.safetensors", "occupied"}));
  EXPECT_EQ(read_bytes(dir.file("occupied/keep")), "keep");
  EXPECT_TRUE(fs::is_directory(dir.path() / "occupied"));

  // A successful save over the earlier file replaces it whole.
  xg::nn::Linear other(3, 2);
  xg::save(other, good);
  xg::nn::Linear check(3, 2);
  xg::load(check, good);
  EXPECT_EQ(snapshot(check), snapshot(other));
  EXPECT_EQ(dir.listing(), (std::vector<std::string>{"good.safetensors", "occupied"}));
}

}  // namespace
