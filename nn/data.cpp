#include "data.hpp"

#include <algorithm>
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

DistributedSampler::DistributedSampler(std::int64_t size, std::int64_t num_replicas,
                                       std::int64_t rank, bool shuffle, std::uint64_t seed,
                                       bool drop_last)
    : size_(size), num_replicas_(num_replicas), rank_(rank), shuffle_(shuffle), seed_(seed) {
  XG_CHECK_ARG(size > 0 && num_replicas > 0,
               "DistributedSampler: size and num_replicas must be "
               "positive, got ",
               size, " and ", num_replicas);
  XG_CHECK_RANGE(rank >= 0 && rank < num_replicas, "DistributedSampler: rank ", rank,
                 " is not in [0, ", num_replicas, ")");
  XG_CHECK_ARG(!drop_last || size >= num_replicas, "DistributedSampler: with drop_last, ", size,
               " samples leave nothing for each of ", num_replicas, " replicas");
  num_samples_ = drop_last ? size / num_replicas : (size + num_replicas - 1) / num_replicas;
}

Tensor DistributedSampler::indices() const {
  std::vector<std::int64_t> order(static_cast<std::size_t>(size_));
  std::iota(order.begin(), order.end(), 0);
  if (shuffle_) {  // Fisher-Yates from seed + epoch, as BatchSampler shuffles
    std::mt19937_64 engine(seed_ + static_cast<std::uint64_t>(epoch_));
    for (std::int64_t i = size_ - 1; i > 0; --i) {
      const auto j = static_cast<std::int64_t>(engine() % static_cast<std::uint64_t>(i + 1));
      std::swap(order[static_cast<std::size_t>(i)], order[static_cast<std::size_t>(j)]);
    }
  }
  Tensor out = empty({num_samples_}, kInt64);
  std::int64_t* p = out.data_ptr<std::int64_t>();
  for (std::int64_t k = 0; k < num_samples_; ++k) {
    // padded by the order's own first indices (wrapping, if the data set is tiny)
    p[k] = order[static_cast<std::size_t>((rank_ + k * num_replicas_) % size_)];
  }
  return out;
}

BatchSampler::BatchSampler(DistributedSampler sampler, std::int64_t batch_size, bool drop_last)
    : BatchSampler(sampler.num_samples(), batch_size, false, 0, drop_last) {
  shard_ = std::move(sampler);
}

std::int64_t BatchSampler::batches_per_epoch() const {
  return drop_last_ ? size_ / batch_size_ : (size_ + batch_size_ - 1) / batch_size_;
}

void BatchSampler::start_epoch() {
  if (shard_) {  // this rank's share of epoch epoch_
    shard_->set_epoch(epoch_);
    const Tensor share = shard_->indices();
    order_.assign(share.data_ptr<std::int64_t>(), share.data_ptr<std::int64_t>() + share.numel());
    position_ = 0;
    ++epoch_;
    return;
  }
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

namespace {

void check_epochs(const std::vector<std::int64_t>& tokens, const std::vector<double>& epochs,
                  const char* op) {
  XG_CHECK_ARG(tokens.size() == epochs.size() && !tokens.empty(), op,
               ": expected one epoch budget per source, got ", epochs.size(), " for ",
               tokens.size(), " sources");
  double asked = 0;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    XG_CHECK_ARG(tokens[i] >= 0 && std::isfinite(epochs[i]) && epochs[i] >= 0, op, ": source ", i,
                 " needs a token count >= 0 and an epoch budget finite and >= 0, got ", tokens[i],
                 " and ", detail::fixed6(epochs[i]));
    asked += epochs[i] * static_cast<double>(tokens[i]);
  }
  XG_CHECK_ARG(asked > 0, op, ": every budget is 0 epochs (or every source is empty)");
}

double asked_tokens(const std::vector<std::int64_t>& tokens, const std::vector<double>& epochs) {
  double asked = 0;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    asked += epochs[i] * static_cast<double>(tokens[i]);
  }
  return asked;
}

}  // namespace

std::vector<double> WindowMixture::weights_for_epochs(const std::vector<std::int64_t>& tokens,
                                                      const std::vector<double>& epochs) {
  check_epochs(tokens, epochs, "WindowMixture::weights_for_epochs");
  const double asked = asked_tokens(tokens, epochs);
  std::vector<double> weights;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    weights.push_back(epochs[i] * static_cast<double>(tokens[i]) / asked);
  }
  return weights;
}

double WindowMixture::epochs_scale(const std::vector<std::int64_t>& tokens,
                                   const std::vector<double>& epochs, double total) {
  check_epochs(tokens, epochs, "WindowMixture::epochs_scale");
  return total / asked_tokens(tokens, epochs);
}

WindowMixture::WindowMixture(std::vector<Tensor> sources, std::vector<double> weights,
                             std::int64_t block_size, Generator generator)
    : sources_(std::move(sources)), block_size_(block_size), generator_(std::move(generator)) {
  constexpr const char* op = "WindowMixture";
  XG_CHECK_ARG(!sources_.empty() && sources_.size() == weights.size(), op,
               ": expected one weight per source, got ", weights.size(), " weights for ",
               sources_.size(), " sources");
  XG_CHECK_ARG(block_size > 0, op, ": block_size must be positive, got ", block_size);
  double sum = 0;
  for (std::size_t i = 0; i < sources_.size(); ++i) {
    const Tensor& t = sources_[i];
    XG_CHECK_ARG(t.defined() && t.dtype() == kInt64 && t.dim() == 1, op, ": source ", i,
                 " must be a 1-D Int64 token tensor, got ",
                 t.defined() ? shape_to_string(t.shape()) + " " + std::string(dtype_name(t.dtype()))
                             : std::string("an undefined tensor"));
    XG_CHECK_ARG(std::isfinite(weights[i]) && weights[i] >= 0, op, ": source ", i,
                 "'s weight must be finite and >= 0, got ", detail::fixed6(weights[i]));
    XG_CHECK_ARG(weights[i] == 0 || t.numel() > block_size, op, ": source ", i, " has ", t.numel(),
                 " tokens, no window of block_size ", block_size,
                 " with its next-token targets (need more than ", block_size, ")");
    sum += weights[i];
  }
  XG_CHECK_ARG(sum > 0, op, ": every weight is 0");
  for (double w : weights) probabilities_.push_back(w / sum);
  drawn_.assign(sources_.size(), 0);
}

std::pair<Tensor, Tensor> WindowMixture::next(std::int64_t batch_size) {
  XG_CHECK_ARG(batch_size > 0, "WindowMixture::next: batch_size must be positive, got ",
               batch_size);
  const auto n = sources_.size();
  std::size_t only = n;  // the one source of positive weight, if there is just one
  for (std::size_t i = 0; i < n; ++i) {
    if (probabilities_[i] > 0) only = (only == n) ? i : n + 1;
  }
  if (only < n) {
    auto batch = random_windows(sources_[only], batch_size, block_size_, generator_);
    drawn_[only] += batch_size;
    return batch;
  }
  // Each window's source: the first of positive weight whose cumulative probability exceeds a
  // uniform draw (the last of positive weight if rounding leaves the sum below the draw).
  std::size_t last_positive = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (probabilities_[i] > 0) last_positive = i;
  }
  const Tensor u = rand({batch_size}, generator_, kFloat64);
  const double* up = u.data_ptr<double>();
  std::vector<std::size_t> source(static_cast<std::size_t>(batch_size));
  std::vector<std::int64_t> count(n, 0);
  for (std::size_t b = 0; b < source.size(); ++b) {
    std::size_t pick = last_positive;
    double cumulative = 0;
    for (std::size_t i = 0; i < n; ++i) {
      cumulative += probabilities_[i];
      if (probabilities_[i] > 0 && up[b] < cumulative) {
        pick = i;
        break;
      }
    }
    source[b] = pick;
    ++count[pick];
  }
  // Then each source's windows, in source order, placed where they were drawn.
  Tensor x = empty({batch_size, block_size_}, kInt64), y = empty({batch_size, block_size_}, kInt64);
  std::int64_t* xp = x.data_ptr<std::int64_t>();
  std::int64_t* yp = y.data_ptr<std::int64_t>();
  for (std::size_t i = 0; i < n; ++i) {
    if (count[i] == 0) continue;
    const Tensor tokens = sources_[i].contiguous();
    const std::int64_t* tp = tokens.data_ptr<std::int64_t>();
    const Tensor starts = randint(0, tokens.numel() - block_size_, {count[i]}, generator_);
    const std::int64_t* sp = starts.data_ptr<std::int64_t>();
    std::int64_t k = 0;
    for (std::size_t b = 0; b < source.size(); ++b) {
      if (source[b] != i) continue;
      const std::int64_t* from = tp + sp[k++];
      std::copy(from, from + block_size_, xp + static_cast<std::int64_t>(b) * block_size_);
      std::copy(from + 1, from + 1 + block_size_, yp + static_cast<std::int64_t>(b) * block_size_);
    }
    drawn_[i] += count[i];
  }
  return {x, y};
}

std::vector<double> WindowMixture::epochs_drawn() const {
  std::vector<double> epochs;
  for (std::size_t i = 0; i < sources_.size(); ++i) {
    const auto tokens = static_cast<double>(sources_[i].numel());
    epochs.push_back(tokens > 0 ? static_cast<double>(drawn_[i] * block_size_) / tokens : 0.0);
  }
  return epochs;
}

Tensor WindowMixture::get_state() const {
  const Tensor g = generator_.get_state().contiguous();
  const auto n = static_cast<std::int64_t>(sources_.size());
  Tensor state = empty({1 + n + g.numel()}, kInt64);
  std::int64_t* p = state.data_ptr<std::int64_t>();
  p[0] = n;
  std::copy(drawn_.begin(), drawn_.end(), p + 1);
  std::copy(g.data_ptr<std::int64_t>(), g.data_ptr<std::int64_t>() + g.numel(), p + 1 + n);
  return state;
}

void WindowMixture::set_state(const Tensor& state) {
  constexpr const char* op = "WindowMixture::set_state";
  XG_CHECK_ARG(state.defined() && state.dtype() == kInt64 && state.dim() == 1, op,
               ": expected a 1-D Int64 tensor from get_state, got ",
               state.defined()
                   ? shape_to_string(state.shape()) + " " + std::string(dtype_name(state.dtype()))
                   : std::string("an undefined tensor"));
  const Tensor s = state.contiguous();
  const std::int64_t* p = s.data_ptr<std::int64_t>();
  const auto n = static_cast<std::int64_t>(sources_.size());
  XG_CHECK_ARG(s.numel() > 1 + n && p[0] == n, op, ": the state (", s.numel(),
               " values) is of a mixture of ", s.numel() > 0 ? p[0] : 0, " sources, this one has ",
               n);
  for (std::int64_t i = 0; i < n; ++i) {
    XG_CHECK_ARG(p[1 + i] >= 0, op, ": source ", i, "'s count ", p[1 + i], " is negative");
  }
  Generator probe;  // checks the generator's part before anything changes
  probe.set_state(s.narrow(0, 1 + n, s.numel() - 1 - n));
  generator_.set_state(probe.get_state());
  drawn_.assign(p + 1, p + 1 + n);
}

}  // namespace xg::nn
