// Nothing is lost: a load that fails leaves the module and the optimizer byte for byte as they
// were, whatever is wrong with the file; a save that fails part-way (the disk fills up) leaves
// the earlier file at that path intact and no temporary behind. And DetectAnomalyGuard finds a
// NaN made on purpose deep inside a long graph and names the op that made it.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <memory>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>
#include <xgrad/xgrad.hpp>

#include "temp_files.hpp"

namespace {

namespace fs = std::filesystem;
using xg::Tensor;

using xg_test::read_bytes;
using xg_test::TempDir;
using xg_test::write_bytes;

std::string bytes_of(const Tensor& t) {
  const Tensor& c = t;
  const void* p = c.dtype() == xg::kFloat32   ? static_cast<const void*>(c.data_ptr<float>())
                  : c.dtype() == xg::kFloat64 ? static_cast<const void*>(c.data_ptr<double>())
                                              : static_cast<const void*>(c.data_ptr<std::int64_t>());
  return {static_cast<const char*>(p), static_cast<std::size_t>(c.numel()) * xg::element_size(c.dtype())};
}

// Every byte a module and an optimizer hold: names, dtypes, shapes and data of the parameters,
// buffers and optimizer state, and each group's options.
std::string everything(const xg::nn::Module& model, const xg::optim::Optimizer& optimizer) {
  std::ostringstream s;
  auto add = [&](const std::string& name, const Tensor& t) {
    s << name << ' ' << xg::dtype_name(t.dtype()) << ' ';
    for (auto d : t.shape()) s << d << ',';
    s << ' ' << bytes_of(t) << '\n';
  };
  for (const auto& p : model.named_parameters()) add(p.name, p.tensor);
  for (const auto& b : model.named_buffers()) {
    if (b.tensor.defined()) add(b.name, b.tensor);
  }
  const xg::optim::OptimizerStateDict state = optimizer.state_dict();
  s << state.optimizer << '\n';
  for (const auto& [name, t] : state.tensors) add("optimizer." + name, t);
  return s.str();
}

std::shared_ptr<xg::nn::Sequential> make_mlp() {
  return std::make_shared<xg::nn::Sequential>(std::initializer_list<std::shared_ptr<xg::nn::Module>>{
      std::make_shared<xg::nn::Linear>(4, 8), std::make_shared<xg::nn::ReLU>(),
      std::make_shared<xg::nn::LayerNorm>(std::vector<std::int64_t>{8}),
      std::make_shared<xg::nn::Linear>(8, 2)});
}

void train_steps(xg::nn::Module& model, xg::optim::Optimizer& optimizer, int steps) {
  const Tensor x = xg::randn({6, 4}), y = xg::randn({6, 2});
  for (int t = 0; t < steps; ++t) {
    optimizer.zero_grad();
    xg::nn::functional::mse_loss(model.forward(x), y).backward();
    optimizer.step();
  }
}

// ---- a failed load changes nothing ----------------------------------------------------------

// Damages a valid checkpoint in many ways, byte by byte and field by field; loading each
// damaged copy into a trained model and its optimizer must either succeed (a flipped data
// byte is still a valid file) or throw, and when it throws, change no byte of either.
TEST(NothingLost, FailedLoadsLeaveModelAndOptimizerByteForByte) {
  TempDir dir;
  xg::manual_seed(5);
  auto source = make_mlp();
  xg::optim::AdamW source_opt(source->parameters(),
                              xg::optim::AdamWOptions(1e-2).amsgrad(true));
  train_steps(*source, source_opt, 3);
  const std::string good = dir.file("good.safetensors");
  xg::save(*source, source_opt, good, {{"step", "3"}});
  const std::string bytes = read_bytes(good);

  std::vector<std::string> damaged;
  for (std::size_t cut : {std::size_t{0}, std::size_t{5}, std::size_t{8}, std::size_t{9},
                          bytes.size() / 2, bytes.size() - 1}) {
    damaged.push_back(bytes.substr(0, cut));  // truncated
  }
  std::mt19937_64 rng(11);
  const std::uint64_t header_end = 8 + *reinterpret_cast<const std::uint64_t*>(bytes.data());
  for (int k = 0; k < 200; ++k) {  // one byte of the length or the header changed
    std::string b = bytes;
    const std::size_t at = rng() % header_end;
    b[at] = static_cast<char>(b[at] ^ (1 + rng() % 255));
    damaged.push_back(b);
  }
  // Field-level damage: another shape, another dtype, a tensor renamed, the optimizer part
  // renamed.
  auto replace = [&](const std::string& from, const std::string& to) {
    std::string b = bytes;
    const auto at = b.find(from);
    if (at != std::string::npos) damaged.push_back(b.replace(at, from.size(), to));
  };
  replace("\"shape\":[8,4]", "\"shape\":[4,8]");
  replace("\"dtype\":\"F32\"", "\"dtype\":\"F64\"");
  replace("model.0.weight", "model.0.wEight");
  replace("optimizer.", "optimiser.");

  xg::manual_seed(6);
  auto target = make_mlp();
  xg::optim::AdamW target_opt(target->parameters(),
                              xg::optim::AdamWOptions(1e-2).amsgrad(true));
  train_steps(*target, target_opt, 2);
  const std::string restore = dir.file("restore.safetensors");
  xg::save(*target, target_opt, restore);  // to undo a damaged file that still loads
  int refused = 0;
  for (std::size_t k = 0; k < damaged.size(); ++k) {
    const std::string path = dir.file("damaged" + std::to_string(k));
    write_bytes(path, damaged[k]);
    const std::string before = everything(*target, target_opt);
    try {
      xg::load(*target, target_opt, path);
      xg::load(*target, target_opt, restore);
    } catch (const std::invalid_argument&) {
      ++refused;
      ASSERT_EQ(everything(*target, target_opt), before) << "case " << k;
    } catch (const std::runtime_error&) {
      ++refused;
      ASSERT_EQ(everything(*target, target_opt), before) << "case " << k;
    }
    ASSERT_EQ(read_bytes(path), damaged[k]) << "loading wrote to the file, case " << k;
  }
  EXPECT_GT(refused, 150);  // most damage is caught; a changed digit can still be valid
}

// The optimizer alone: a state saved by another kind of optimizer, or for other shapes.
TEST(NothingLost, FailedOptimizerLoadLeavesItsStateByteForByte) {
  TempDir dir;
  xg::manual_seed(7);
  auto model = make_mlp();
  xg::optim::SGD sgd(model->parameters(), xg::optim::SGDOptions(0.1).momentum(0.9));
  train_steps(*model, sgd, 2);
  xg::save(sgd, dir.file("sgd"));
  auto other = std::make_shared<xg::nn::Linear>(4, 2);  // other shapes than the MLP's
  xg::optim::Adam other_adam(other->parameters(), xg::optim::AdamOptions(0.1));
  train_steps(*other, other_adam, 2);
  xg::save(other_adam, dir.file("adam_other_shapes"));

  xg::optim::Adam adam(model->parameters(), xg::optim::AdamOptions(0.1));
  train_steps(*model, adam, 2);
  const std::string before = everything(*model, adam);
  EXPECT_THROW(xg::load(adam, dir.file("sgd")), std::invalid_argument);
  EXPECT_EQ(everything(*model, adam), before);
  EXPECT_THROW(xg::load(adam, dir.file("adam_other_shapes")), std::invalid_argument);
  EXPECT_EQ(everything(*model, adam), before);
}

// ---- a failed save keeps the earlier file ---------------------------------------------------

// Lowers this process's file-size limit, as a full disk would stop a write part-way. Writes
// past the limit fail with EFBIG instead of raising SIGXFSZ, which is ignored meanwhile.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    getrlimit(RLIMIT_FSIZE, &previous_);
    previous_handler_ = signal(SIGXFSZ, SIG_IGN);
    rlimit limit = previous_;
    limit.rlim_cur = bytes;
    ok_ = setrlimit(RLIMIT_FSIZE, &limit) == 0;
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &previous_);
    signal(SIGXFSZ, previous_handler_);
  }
  bool ok() const { return ok_; }

 private:
  rlimit previous_{};
  void (*previous_handler_)(int) = nullptr;
  bool ok_ = false;
};

TEST(NothingLost, SaveThatRunsOutOfSpaceKeepsTheEarlierFile) {
  TempDir dir;
  xg::manual_seed(8);
  auto small = std::make_shared<xg::nn::Linear>(4, 2);
  const std::string path = dir.file("model.safetensors");
  xg::save(*small, path);
  const std::string earlier = read_bytes(path);
  ASSERT_LT(earlier.size(), 1000u);

  auto big = std::make_shared<xg::nn::Linear>(256, 256);  // 257 KiB of float32
  std::string message;
  {
    FileSizeLimit limit(64 * 1024);  // the "disk" fills up a quarter of the way through
    ASSERT_TRUE(limit.ok());
    try {
      xg::save(*big, path);
    } catch (const std::runtime_error& e) {
      message = e.what();
    }
  }
  EXPECT_NE(message.find("save: cannot write"), std::string::npos) << message;
  EXPECT_NE(message.find("File too large"), std::string::npos) << message;
  EXPECT_EQ(read_bytes(path), earlier);
  EXPECT_EQ(dir.listing(), std::vector<std::string>{"model.safetensors"});  // no temporary left
  auto check = std::make_shared<xg::nn::Linear>(4, 2);
  xg::load(*check, path);  // still loads
  EXPECT_EQ(bytes_of(check->weight), bytes_of(small->weight));

  // The same for a checkpoint with an optimizer, failing in the optimizer's part.
  xg::optim::Adam opt(big->parameters(), xg::optim::AdamOptions(1e-3));
  const Tensor x = xg::randn({2, 256});
  opt.zero_grad();
  big->forward(x).sum().backward();
  opt.step();
  const std::string ckpt = dir.file("ckpt.safetensors");
  xg::save(*small, ckpt);
  const std::string earlier_ckpt = read_bytes(ckpt);
  {
    FileSizeLimit limit(300 * 1024);  // the model fits; its Adam moments do not
    ASSERT_TRUE(limit.ok());
    EXPECT_THROW(xg::save(*big, opt, ckpt), std::runtime_error);
  }
  EXPECT_EQ(read_bytes(ckpt), earlier_ckpt);
  EXPECT_EQ(dir.listing(), (std::vector<std::string>{"ckpt.safetensors", "model.safetensors"}));
}

// ---- anomaly detection in a deep graph ------------------------------------------------------

// 3000 ops; halfway, v + 0 * sqrt(v - v.detach()): the forward value is v exactly, but sqrt's
// backward gets a zero gradient at sqrt(0) and returns 0 / 0 = NaN. Every later op's forward is
// finite, so sqrt is the first backward to produce a NaN, and the guard must name it.
TEST(AnomalyDeepGraph, NaNMadeOnPurposeIsCaughtAndItsOpNamed) {
  for (xg::Dtype dtype : {xg::kFloat32, xg::kFloat64}) {
    SCOPED_TRACE(std::string(xg::dtype_name(dtype)));
    const Tensor x = xg::full({3}, 0.5, xg::TensorOptions(dtype).requires_grad(true));
    auto build = [&] {
      Tensor v = x;
      for (int i = 0; i < 1500; ++i) {
        if (i == 750) v = v + 0.0 * xg::sqrt(v - v.detach());
        v = xg::tanh(v) * 1.5 + 0.01;
      }
      return v.sum();
    };
    {
      xg::autograd::DetectAnomalyGuard guard;
      const Tensor loss = build();
      ASSERT_TRUE(std::isfinite(loss.item()));
      std::string message;
      try {
        loss.backward();
      } catch (const std::runtime_error& e) {
        message = e.what();
      }
      EXPECT_NE(message.find("SqrtBackward"), std::string::npos) << message;
      EXPECT_NE(message.find("NaN"), std::string::npos) << message;
      EXPECT_FALSE(x.grad().defined() && std::isfinite(x.grad().sum().item()));
    }
    // Without the guard the NaN reaches the leaf's gradient.
    const Tensor loss = build();
    loss.backward();
    EXPECT_TRUE(std::isnan(x.grad().sum().item()));
  }
}

}  // namespace
