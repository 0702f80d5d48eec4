// Mini-batches: over an index range, shuffled per epoch from their own seed, for any number of
// epochs, whole or fractional; and random windows of a token stream, as nanoGPT draws them.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <utility>
#include <vector>

#include "../autograd/generator.hpp"
#include "../autograd/tensor.hpp"

namespace xg::nn {

// Deals out the indices of a data set in batches, as a shuffling DataLoader's sampler does.
// Not saved in checkpoints: rebuild it from its seed and call next() to reach a step again.
class BatchSampler {
 public:
  // Batches of indices into [0, size). With drop_last, an epoch's last, smaller batch is skipped.
  BatchSampler(std::int64_t size, std::int64_t batch_size, bool shuffle = true,
               std::uint64_t seed = 0, bool drop_last = false);

  // The next batch as a 1-D Int64 tensor; a new epoch (reshuffled) starts when one runs out.
  Tensor next();
  // The batches of `epochs` epochs from here on: round(epochs * batches_per_epoch()) of them.
  std::vector<Tensor> take(double epochs);

  std::int64_t batches_per_epoch() const;
  std::int64_t epoch() const { return epoch_; }  // epochs started so far

 private:
  void start_epoch();
  std::int64_t size_, batch_size_;
  bool shuffle_, drop_last_;
  std::mt19937_64 engine_;
  std::vector<std::int64_t> order_;
  std::int64_t position_ = 0;
  std::int64_t epoch_ = 0;
};

// A language model's batch as nanoGPT's get_batch draws it: batch_size windows of block_size
// tokens starting at random offsets in [0, numel - block_size) of a 1-D Int64 token tensor, and
// the same windows one token later as targets: (x, y), both Int64 [batch_size, block_size]. The
// offsets come from `generator` (the default one without it), so a run that owns its generator
// draws the same batches whatever else draws random numbers.
std::pair<Tensor, Tensor> random_windows(const Tensor& tokens, std::int64_t batch_size,
                                         std::int64_t block_size,
                                         std::optional<Generator> generator = std::nullopt);

}  // namespace xg::nn
