// The random engines behind randn, rand, randint, multinomial and dropout: the global one that
// xg::manual_seed seeds, and the ones xg::Generator objects own (autograd/generator.hpp).
#pragma once

#include <cstdint>
#include <mutex>
#include <random>
#include <string>

namespace xg {

// Makes every random op that is not given a generator reproducible from here on.
void manual_seed(std::uint64_t seed);

// PyTorch's default seed (torch.Generator().initial_seed()).
inline constexpr std::uint64_t kDefaultSeed = 67280421310721ULL;

// One mt19937_64 and the seed it started from, behind a lock. The distributions are written out
// in tensor/random.cpp (not std::normal_distribution), so a seed gives the same numbers with every
// standard library.
struct RandomEngine {
  std::mutex mutex;
  std::mt19937_64 engine{kDefaultSeed};
  std::uint64_t seed = kDefaultSeed;

  void manual_seed(std::uint64_t s);
  // The engine's state as the standard library writes it, and back; set_state returns false and
  // changes nothing when the text is not a state.
  std::string state() const;
  bool set_state(const std::string& text);
};

// The process's engine (what xg::manual_seed seeds).
RandomEngine& default_engine();

// Philox4x32-10, the counter-based generator of Salmon et al. (SC'11) as Random123 defines it:
// the four words for one counter under one key. Dropout's masks come from it (simd.hpp).
void philox4x32_10(const std::uint32_t (&counter)[4], const std::uint32_t (&key)[2],
                   std::uint32_t (&out)[4]);

}  // namespace xg
