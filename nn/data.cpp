#include "data.hpp"

#include <cmath>
#include <numeric>

#include "../autograd/creation.hpp"
#include "../autograd/ops.hpp"
#include "../tensor/check.hpp"

namespace xg::nn {

BatchSampler::BatchSampler(std::int64_t size, std::int64_t batch_size, bool shuffle,
                           std::uint64_t seed, bool drop_last)
    : size_(size),
      batch_size_(batch_size),
      shuffle_(shuffle),
      drop_last_(drop_last),
      engine_(seed) {
  XG_CHECK_ARG(size > 0 && batch_size > 0,
               "BatchSampler: size and batch_size must be positive, got ", size, " and ",
               batch_size);
  XG_CHECK_ARG(!drop_last || batch_size <= size, "BatchSampler: with drop_last, a batch of ",
               batch_size, " never fits in ", size, " samples");
  order_.resize(static_cast<std::size_t>(size));
}

std::int64_t BatchSampler::batches_per_epoch() const {
  return drop_last_ ? size_ / batch_size_ : (size_ + batch_size_ - 1) / batch_size_;
}

void BatchSampler::start_epoch() {
  std::iota(order_.begin(), order_.end(), 0);
  if (shuffle_) {
    // Fisher-Yates with the sampler's own generator: the same seed gives the same batches with
    // any standard library.
    for (std::int64_t i = size_ - 1; i > 0; --i) {
      const auto j = static_cast<std::int64_t>(engine_() % static_cast<std::uint64_t>(i + 1));
      std::swap(order_[static_cast<std::size_t>(i)], order_[static_cast<std::size_t>(j)]);
    }
  }
  position_ = 0;
  ++epoch_;
}

Tensor BatchSampler::next() {
  const std::int64_t left = size_ - position_;
  if (epoch_ == 0 || left == 0 || (drop_last_ && left < batch_size_)) start_epoch();
  const std::int64_t n = std::min(batch_size_, size_ - position_);
  std::vector<double> indices(order_.begin() + position_, order_.begin() + position_ + n);
  position_ += n;
  return tensor(indices, kInt64);
}

std::vector<Tensor> BatchSampler::take(double epochs) {
  XG_CHECK_ARG(epochs >= 0 && std::isfinite(epochs),
               "BatchSampler::take: epochs must be finite and >= 0, got ", detail::fixed6(epochs));
  const double batches = std::round(epochs * static_cast<double>(batches_per_epoch()));
  std::vector<Tensor> out;
  XG_CHECK_ARG(!(batches > static_cast<double>(out.max_size())),
               "BatchSampler::take: ", detail::fixed6(epochs), " epochs are ",
               detail::fixed6(batches),
               " batches, more than one vector can hold; take fewer at a time");
  const auto count = static_cast<std::int64_t>(batches);
  out.reserve(static_cast<std::size_t>(count));
  for (std::int64_t i = 0; i < count; ++i) out.push_back(next());
  return out;
}

std::pair<Tensor, Tensor> random_windows(const Tensor& tokens, std::int64_t batch_size,
                                         std::int64_t block_size,
                                         std::optional<Generator> generator) {
  constexpr const char* op = "random_windows";
  XG_CHECK_ARG(tokens.defined(), op, ": got an undefined tensor (default-constructed xg::Tensor)");
  XG_CHECK_ARG(tokens.dtype() == kInt64 && tokens.dim() == 1, op,
               ": expected a 1-D Int64 token tensor, got ", shape_to_string(tokens.shape()), " ",
               dtype_name(tokens.dtype()));
  XG_CHECK_ARG(batch_size > 0 && block_size > 0, op,
               ": batch_size and block_size must be positive, got ", batch_size, " and ",
               block_size);
  // nanoGPT draws offsets from [0, len - block_size): a window and its targets fit, and at
  // least one offset exists
  XG_CHECK_ARG(tokens.numel() > block_size, op, ": ", tokens.numel(),
               " tokens hold no window of block_size ", block_size,
               " with its next-token targets (need more than ", block_size, ")");
  const Generator g = generator ? *generator : default_generator();
  const Tensor starts = randint(0, tokens.numel() - block_size, {batch_size}, g);
  const Tensor at = starts.unsqueeze(1) + arange(block_size).unsqueeze(0);  // [B, T]
  const Tensor x = tokens.index_select(0, at.flatten()).reshape({batch_size, block_size});
  const Tensor y = tokens.index_select(0, (at + 1).flatten()).reshape({batch_size, block_size});
  return {x, y};
}

}  // namespace xg::nn
