#include "random.hpp"

#include <cmath>
#include <mutex>
#include <numbers>
#include <random>

#include "kernels.hpp"

namespace xg {
namespace {

// One mt19937_64 for the process, as PyTorch has one default CPU generator. The distributions
// are written out here (not std::normal_distribution) so a seed gives the same numbers with
// every standard library.
struct Generator {
  std::mutex mutex;
  std::mt19937_64 engine{0};
};

Generator& generator() {
  static Generator g;
  return g;
}

double uniform01(std::mt19937_64& e) { return static_cast<double>(e() >> 11) * 0x1.0p-53; }

// A new array filled by fill(std::span<T>, engine) under the generator's lock.
template <class F>
Array random_array(Dtype dtype, const Shape& shape, F&& fill) {
  Array out = Array::empty(dtype, shape);
  auto& g = generator();
  std::lock_guard lock(g.mutex);
  out.visit([&](auto a) { fill(a, g.engine); });
  return out;
}

}  // namespace

void manual_seed(std::uint64_t seed) {
  auto& g = generator();
  std::lock_guard lock(g.mutex);
  g.engine.seed(seed);
}

namespace kernels {

Array randn(Dtype dtype, const Shape& shape) {
  return random_array(dtype, shape, [](auto a, std::mt19937_64& engine) {
    using T = typename decltype(a)::value_type;
    T* p = a.data();
    const std::size_t n = a.size();
    for (std::size_t i = 0; i < n; i += 2) {
      const double u1 = 1.0 - uniform01(engine);  // (0, 1]: log is finite
      const double u2 = uniform01(engine);
      const double r = std::sqrt(-2.0 * std::log(u1));
      p[i] = static_cast<T>(r * std::cos(2.0 * std::numbers::pi * u2));
      if (i + 1 < n) p[i + 1] = static_cast<T>(r * std::sin(2.0 * std::numbers::pi * u2));
    }
  });
}

Array rand(Dtype dtype, const Shape& shape) {
  return random_array(dtype, shape, [](auto a, std::mt19937_64& engine) {
    using T = typename decltype(a)::value_type;
    for (auto& v : a) {
      T u = static_cast<T>(uniform01(engine));
      if (u >= T(1)) u = std::nextafter(T(1), T(0));  // rounding to float can reach 1
      v = u;
    }
  });
}

Array randint(std::int64_t low, std::int64_t high, Dtype dtype, const Shape& shape) {
  const auto range = static_cast<std::uint64_t>(high - low);
  // Rejection keeps every value equally likely.
  const std::uint64_t limit =
      std::numeric_limits<std::uint64_t>::max() - std::numeric_limits<std::uint64_t>::max() % range;
  return random_array(dtype, shape, [&](auto a, std::mt19937_64& engine) {
    using T = typename decltype(a)::value_type;
    for (auto& v : a) {
      std::uint64_t r;
      do {
        r = engine();
      } while (r >= limit);
      v = static_cast<T>(low + static_cast<std::int64_t>(r % range));
    }
  });
}

}  // namespace kernels
}  // namespace xg
