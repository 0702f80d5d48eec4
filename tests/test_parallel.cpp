// The intra-op thread pool: set_num_threads / get_num_threads as PyTorch's, the loop splitter's
// contract (every element once, exceptions rethrown), and results that do not depend on the
// thread count: a training step's every output, bit for bit, on 1, 2 and 3 threads.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>
#include <xgrad/tensor/parallel.hpp>
#include <xgrad/xgrad.hpp>

namespace {

using xg::Tensor;
namespace F = xg::nn::functional;

// Restores the thread count a test changed.
class ThreadCount {
 public:
  ThreadCount() : saved_(xg::get_num_threads()) {}
  ~ThreadCount() { xg::set_num_threads(saved_); }

 private:
  int saved_;
};

TEST(ThreadPool, SetAndGetAsPyTorch) {
  ThreadCount restore;
  EXPECT_GE(xg::get_num_threads(), 1);
  xg::set_num_threads(3);
  EXPECT_EQ(xg::get_num_threads(), 3);
  xg::set_num_threads(1);
  EXPECT_EQ(xg::get_num_threads(), 1);
  for (int bad : {0, -2}) {
    try {
      xg::set_num_threads(bad);
      FAIL() << "set_num_threads(" << bad << ") did not throw";
    } catch (const std::invalid_argument& e) {
      EXPECT_EQ(
          std::string(e.what()),
          "set_num_threads: expected a positive number of threads, got " + std::to_string(bad));
    }
    EXPECT_EQ(xg::get_num_threads(), 1);  // unchanged
  }
}

TEST(ThreadPool, ParallelForCoversEveryIndexOnce) {
  ThreadCount restore;
  for (int threads : {1, 2, 3, 7}) {
    xg::set_num_threads(threads);
    for (std::int64_t n : {0, 1, 15, 16, 17, 1000, 40000, 65537}) {
      for (std::int64_t grain : {1, 7, 64, 30000, 100000}) {
        std::vector<std::atomic<int>> seen(static_cast<std::size_t>(n));
        std::atomic<int> calls{0};
        xg::detail::parallel_for(n, grain, [&](std::int64_t b, std::int64_t e) {
          ++calls;
          EXPECT_LT(b, e);
          // a range is at least one grain long, but the last
          if (e != n) {
            EXPECT_GE(e - b, grain);
          }
          for (std::int64_t i = b; i < e; ++i) ++seen[static_cast<std::size_t>(i)];
        });
        for (std::int64_t i = 0; i < n; ++i) {
          ASSERT_EQ(seen[static_cast<std::size_t>(i)].load(), 1)
              << "index " << i << " of " << n << ", grain " << grain << ", " << threads
              << " threads";
        }
        EXPECT_LE(calls.load(), threads);
      }
    }
  }
}

TEST(ThreadPool, ParallelForRethrowsOnceNoRangeIsRunning) {
  ThreadCount restore;
  xg::set_num_threads(2);
  std::atomic<int> running{0};
  const std::int64_t n = 1 << 16;
  for (int attempt = 0; attempt < 20; ++attempt) {
    try {
      xg::detail::parallel_for(n, 1024, [&](std::int64_t b, std::int64_t) {
        ++running;
        if (b == 0) {
          --running;
          throw std::runtime_error("first range failed");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        --running;
      });
      FAIL() << "no exception";
    } catch (const std::runtime_error& e) {
      EXPECT_STREQ(e.what(), "first range failed");
    }
    // a range that started has ended (ranges not started may be skipped): the loop's state is
    // no longer in use when the caller sees the exception
    EXPECT_EQ(running.load(), 0);
  }
}

// Every output of one GPT-like training step on inputs large enough for every kernel to split:
// elementwise and broadcast ops, the reductions, softmax, LayerNorm, matrix products (one and
// batched), attention, the embedding's backward, clipping, AdamW and SGD.
std::vector<Tensor> training_step_outputs() {
  xg::manual_seed(7);
  const std::int64_t B = 6, T = 64, C = 96, V = 70;
  Tensor wte = (xg::randn({V, C}) * 0.02).requires_grad_(true);
  Tensor w1 = (xg::randn({C, 4 * C}) * 0.02).requires_grad_(true);
  Tensor w2 = (xg::randn({4 * C, C}) * 0.02).requires_grad_(true);
  Tensor wqkv = (xg::randn({C, 3 * C}) * 0.02).requires_grad_(true);
  Tensor ln_w = xg::ones({C}).requires_grad_(true);
  Tensor ln_b = xg::zeros({C}).requires_grad_(true);
  const Tensor idx = xg::randint(0, V, {B, T});
  const Tensor targets = xg::randint(0, V, {B * T});
  const Tensor big = xg::randn({300000});

  std::vector<Tensor> out;
  Tensor x = xg::index_select(wte, 0, idx.reshape({-1})).view({B, T, C});  // the embedding
  Tensor h = F::layer_norm(x, {C}, ln_w, ln_b);
  Tensor qkv = xg::matmul(h, wqkv).view({B, T, 3, 4, C / 4}).permute({2, 0, 3, 1, 4});
  Tensor att = F::scaled_dot_product_attention(qkv.select(0, 0), qkv.select(0, 1), qkv.select(0, 2),
                                               {}, 0.0, true);
  x = x + att.transpose(1, 2).contiguous().view({B, T, C});
  Tensor m = xg::matmul(F::gelu(xg::matmul(F::layer_norm(x, {C}, ln_w, ln_b), w1)), w2);
  x = x + m;
  Tensor logits = xg::matmul(x, wte.t()).view({B * T, V});
  Tensor loss = F::cross_entropy(logits, targets);
  loss = loss + xg::softmax(logits, 1).square().sum() * 1e-3 + x.exp().mean({1}).sum() * 1e-4;
  loss.backward();
  out.push_back(loss.detach());
  out.push_back(logits.detach());
  out.push_back(big.exp());
  out.push_back(big.sum());
  out.push_back(big.view({600, 500}).sum({0}));
  out.push_back(big.view({600, 500}).sum({1}));
  out.push_back(big.view({600, 500}).amax({1}));
  out.push_back(big.view({600, 500}).amax({0}));
  out.push_back(xg::argmax(big.view({600, 500}), 0).to(xg::kFloat64));
  out.push_back(xg::log_softmax(big.view({600, 500}), 0));
  out.push_back(big.view({600, 500}) + big.view({600, 500}).select(0, 3));
  out.push_back(big.view({600, 500}).t().contiguous());
  std::vector<Tensor> params{wte, w1, w2, wqkv, ln_w, ln_b};
  out.push_back(xg::scalar_tensor(xg::nn::utils::clip_grad_norm_(params, 0.5)));
  for (const auto& p : params) out.push_back(p.grad().clone());
  xg::optim::AdamW opt(params, xg::optim::AdamWOptions(1e-3));
  opt.step();
  for (const auto& p : params) out.push_back(p.detach().clone());
  Tensor flat = big.clone().requires_grad_(true);
  flat.mutable_grad() = big * 0.5;
  xg::optim::SGD sgd({flat}, xg::optim::SGDOptions(0.1).momentum(0.9).weight_decay(0.01));
  sgd.step();
  sgd.step();
  out.push_back(flat.detach().clone());
  return out;
}

bool same_bits(const Tensor& a, const Tensor& b) {
  if (a.shape() != b.shape() || a.dtype() != b.dtype()) return false;
  const Tensor ca = a.contiguous(), cb = b.contiguous();
  const auto n = static_cast<std::size_t>(ca.numel());
  if (a.dtype() == xg::kFloat32) {
    return std::memcmp(ca.data_ptr<float>(), cb.data_ptr<float>(), n * sizeof(float)) == 0;
  }
  return std::memcmp(ca.data_ptr<double>(), cb.data_ptr<double>(), n * sizeof(double)) == 0;
}

TEST(ThreadPool, ResultsDoNotDependOnTheThreadCount) {
  ThreadCount restore;
  xg::set_num_threads(1);
  const std::vector<Tensor> one = training_step_outputs();
  for (int threads : {2, 3}) {
    xg::set_num_threads(threads);
    const std::vector<Tensor> many = training_step_outputs();
    ASSERT_EQ(many.size(), one.size());
    for (std::size_t i = 0; i < one.size(); ++i) {
      EXPECT_TRUE(same_bits(one[i], many[i])) << "output " << i << " on " << threads << " threads";
    }
  }
}

}  // namespace
