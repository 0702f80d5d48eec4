#include "generator.hpp"

#include <cstring>
#include <string>

#include "../tensor/check.hpp"
#include "creation.hpp"

namespace xg {

// The state tensor: the seed, then the engine's state as the standard library writes it (a
// sequence of unsigned 64-bit numbers), each stored bit for bit in an Int64.
namespace {

Tensor state_tensor(const RandomEngine& g) {
  std::vector<std::uint64_t> words = {g.seed};
  const std::string text = g.state();
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t used = 0;
    words.push_back(std::stoull(text.substr(at), &used));
    at += used;
    while (at < text.size() && text[at] == ' ') ++at;
  }
  Tensor out = empty({static_cast<std::int64_t>(words.size())}, kInt64);
  std::memcpy(out.data_ptr<std::int64_t>(), words.data(), words.size() * sizeof(std::uint64_t));
  return out;
}

void restore(RandomEngine& g, const Tensor& state, const char* op) {
  XG_CHECK_ARG(state.defined(), op, ": got an undefined tensor (default-constructed xg::Tensor)");
  XG_CHECK_ARG(state.dtype() == kInt64 && state.dim() == 1 && state.numel() >= 2, op,
               ": expected a 1-D Int64 state tensor from get_state, got ",
               shape_to_string(state.shape()), " ", dtype_name(state.dtype()));
  const Tensor dense = state.contiguous();
  std::vector<std::uint64_t> words(static_cast<std::size_t>(dense.numel()));
  std::memcpy(words.data(), dense.data_ptr<std::int64_t>(), words.size() * sizeof(std::uint64_t));
  std::string text;
  for (std::size_t i = 1; i < words.size(); ++i) {
    if (i > 1) text += ' ';
    text += std::to_string(words[i]);
  }
  XG_CHECK_ARG(g.set_state(text), op, ": the tensor is not a generator state (", state.numel(),
               " values)");
  std::lock_guard lock(g.mutex);
  g.seed = words[0];
}

}  // namespace

Generator::Generator() : engine_(std::make_shared<RandomEngine>()) {}

Generator::Generator(std::uint64_t seed) : Generator() { manual_seed(seed); }

Generator& Generator::manual_seed(std::uint64_t seed) {
  engine_->manual_seed(seed);
  return *this;
}

std::uint64_t Generator::initial_seed() const {
  std::lock_guard lock(engine_->mutex);
  return engine_->seed;
}

Tensor Generator::get_state() const { return state_tensor(*engine_); }

Generator& Generator::set_state(const Tensor& state) {
  restore(*engine_, state, "Generator::set_state");
  return *this;
}

Generator default_generator() {
  // a handle that does not own the process's engine
  return Generator(
      std::shared_ptr<RandomEngine>(std::shared_ptr<RandomEngine>(), &default_engine()));
}

Tensor get_rng_state() { return state_tensor(default_engine()); }

void set_rng_state(const Tensor& state) { restore(default_engine(), state, "set_rng_state"); }

}  // namespace xg
