#include "data.hpp"

#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

#include "../autograd/creation.hpp"

namespace xg::nn {

BatchSampler::BatchSampler(std::int64_t size, std::int64_t batch_size, bool shuffle,
                           std::uint64_t seed, bool drop_last)
    : size_(size),
      batch_size_(batch_size),
      shuffle_(shuffle),
      drop_last_(drop_last),
      engine_(seed) {
  if (size <= 0 || batch_size <= 0) {
    throw std::invalid_argument("BatchSampler: size and batch_size must be positive, got " +
                                std::to_string(size) + " and " + std::to_string(batch_size));
  }
  if (drop_last && batch_size > size) {
    throw std::invalid_argument("BatchSampler: with drop_last, a batch of " +
                                std::to_string(batch_size) + " never fits in " +
                                std::to_string(size) + " samples");
  }
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
  if (!(epochs >= 0) || !std::isfinite(epochs)) {
    throw std::invalid_argument("BatchSampler::take: epochs must be finite and >= 0, got " +
                                std::to_string(epochs));
  }
  const double batches = std::round(epochs * static_cast<double>(batches_per_epoch()));
  std::vector<Tensor> out;
  if (batches > static_cast<double>(out.max_size())) {
    throw std::invalid_argument("BatchSampler::take: " + std::to_string(epochs) + " epochs are " +
                                std::to_string(batches) +
                                " batches, more than one vector can hold; take fewer at a time");
  }
  const auto count = static_cast<std::int64_t>(batches);
  out.reserve(static_cast<std::size_t>(count));
  for (std::int64_t i = 0; i < count; ++i) out.push_back(next());
  return out;
}

}  // namespace xg::nn
