// Random number generators, as torch.Generator: each owns its own stream, so draws from one (say,
// the batches of a training run) do not shift the others (evaluation, sampling, dropout).
#pragma once

#include <cstdint>
#include <memory>

#include "../tensor/random.hpp"
#include "tensor.hpp"

namespace xg {

// A handle, as at::Generator: copies share one generator. Random ops take one as an optional
// argument; without it they draw from the default generator, which xg::manual_seed seeds.
class Generator {
 public:
  Generator();  // seeded with kDefaultSeed, as torch.Generator()
  explicit Generator(std::uint64_t seed);
  Generator& manual_seed(std::uint64_t seed);
  std::uint64_t initial_seed() const;  // the last seed given
  // The whole state as a 1-D Int64 tensor (PyTorch gives a UInt8 one), to save in a checkpoint;
  // set_state restores it, so the stream continues where get_state was called.
  Tensor get_state() const;
  Generator& set_state(const Tensor& state);

  RandomEngine& engine() const { return *engine_; }

 private:
  explicit Generator(std::shared_ptr<RandomEngine> engine) : engine_(std::move(engine)) {}
  friend Generator default_generator();
  std::shared_ptr<RandomEngine> engine_;
};

// The default generator: a handle on the one xg::manual_seed seeds.
Generator default_generator();
// Its state, as torch.get_rng_state / torch.set_rng_state.
Tensor get_rng_state();
void set_rng_state(const Tensor& state);

}  // namespace xg
