// Mini-batches: over an index range, shuffled per epoch from their own seed, for any number of
// epochs, whole or fractional; and random windows of a token stream, as nanoGPT draws them.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "../autograd/generator.hpp"
#include "../autograd/tensor.hpp"

namespace xg::nn {

// One rank's share of a data set's indices per epoch, as PyTorch's DistributedSampler: each
// epoch's order comes from seed + epoch alone (so every rank draws the same one), then rank r
// takes the order's elements r, r + num_replicas, r + 2 num_replicas, ... The shares are
// disjoint and of equal size: without drop_last the order is padded with its own first indices
// up to a multiple of num_replicas; with it, the order is cut down to one.
class DistributedSampler {
 public:
  DistributedSampler(std::int64_t size, std::int64_t num_replicas, std::int64_t rank,
                     bool shuffle = true, std::uint64_t seed = 0, bool drop_last = false);
  void set_epoch(std::int64_t epoch) { epoch_ = epoch; }
  std::int64_t epoch() const { return epoch_; }
  std::int64_t num_samples() const { return num_samples_; }  // this rank's share per epoch
  // This rank's indices for the current epoch, Int64 [num_samples()].
  Tensor indices() const;

 private:
  std::int64_t size_, num_replicas_, rank_;
  bool shuffle_;
  std::uint64_t seed_;
  std::int64_t num_samples_;
  std::int64_t epoch_ = 0;
};

// Deals out the indices of a data set in batches, as a shuffling DataLoader's sampler does.
// Not saved in checkpoints: rebuild it from its seed and call next() to reach a step again.
class BatchSampler {
 public:
  // Batches of indices into [0, size). With drop_last, an epoch's last, smaller batch is skipped.
  BatchSampler(std::int64_t size, std::int64_t batch_size, bool shuffle = true,
               std::uint64_t seed = 0, bool drop_last = false);
  // Batches of one rank's share: epoch e (from 0) deals out sampler's indices for epoch e, in
  // their order (DataLoader(dataset, batch_size, sampler=DistributedSampler(...)) with
  // set_epoch(e) at each epoch).
  BatchSampler(DistributedSampler sampler, std::int64_t batch_size, bool drop_last = false);

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
  std::optional<DistributedSampler> shard_;
};

// A language model's batch as nanoGPT's get_batch draws it: batch_size windows of block_size
// tokens starting at random offsets in [0, numel - block_size) of a 1-D Int64 token tensor, and
// the same windows one token later as targets: (x, y), both Int64 [batch_size, block_size]. The
// offsets come from `generator` (the default one without it), so a run that owns its generator
// draws the same batches whatever else draws random numbers.
std::pair<Tensor, Tensor> random_windows(const Tensor& tokens, std::int64_t batch_size,
                                         std::int64_t block_size,
                                         std::optional<Generator> generator = std::nullopt);

// A data mixture: training windows drawn from several token streams by weight, as a pretraining
// run draws from its sources (LLaMA's table: web text about once, books and Wikipedia about
// twice, GitHub about 0.6 of an epoch). Each window of a batch picks its source with
// probability weight / sum of weights, then a random offset in it as random_windows does; a
// source of weight 0 is never drawn (keep it to evaluate on). With a single source of positive
// weight, the batches are random_windows' to the bit. The draws come from the mixture's own
// generator, and get_state/set_state carry it and the counts drawn, so that a run resumed from a
// checkpoint draws the same batches as the uninterrupted one.
class WindowMixture {
 public:
  // sources: 1-D Int64 token tensors; weights: one per source, finite and >= 0, not all 0. A
  // source of positive weight must hold more than block_size tokens.
  WindowMixture(std::vector<Tensor> sources, std::vector<double> weights, std::int64_t block_size,
                Generator generator);

  // Weights from epoch budgets: source i is to be seen epochs[i] times, so it gets the share
  // epochs[i] * tokens[i] / sum_j epochs[j] * tokens[j] of the windows. A run of `total`
  // tokens then sees source i scale * epochs[i] times, with scale = total / sum_j epochs[j] *
  // tokens[j] (epochs_scale): budgets that ask for more tokens than the run draws are scaled
  // down together, fewer scaled up; their ratios are kept.
  static std::vector<double> weights_for_epochs(const std::vector<std::int64_t>& tokens,
                                                const std::vector<double>& epochs);
  static double epochs_scale(const std::vector<std::int64_t>& tokens,
                             const std::vector<double>& epochs, double total);

  // The next batch: (x, y), Int64 [batch_size, block_size], y the tokens after x.
  std::pair<Tensor, Tensor> next(std::int64_t batch_size);

  std::int64_t num_sources() const { return static_cast<std::int64_t>(sources_.size()); }
  const std::vector<double>& probabilities() const { return probabilities_; }  // weights / sum
  const std::vector<std::int64_t>& drawn() const { return drawn_; }  // windows per source so far
  // The epochs of each source drawn so far: windows drawn * block_size / its tokens.
  std::vector<double> epochs_drawn() const;

  // [num_sources, drawn..., the generator's state...] as a 1-D Int64 tensor, and back; set_state
  // checks the whole state (the number of sources, the counts, the generator's part) before
  // changing anything.
  Tensor get_state() const;
  void set_state(const Tensor& state);

 private:
  std::vector<Tensor> sources_;
  std::vector<double> probabilities_;
  std::vector<std::int64_t> drawn_;
  std::int64_t block_size_;
  Generator generator_;
};

}  // namespace xg::nn
