#include "random.hpp"

#include <algorithm>
#include <cmath>
#include <mutex>
#include <numbers>
#include <random>
#include <sstream>
#include <vector>

#include "kernels.hpp"
#include "parallel.hpp"
#include "simd.hpp"

namespace xg {
namespace {

double uniform01(std::mt19937_64& e) { return static_cast<double>(e() >> 11) * 0x1.0p-53; }

// A new array filled by fill(std::span<T>, engine) under the engine's lock.
template <class F>
Array random_array(RandomEngine& g, Dtype dtype, const Shape& shape, F&& fill) {
  Array out = Array::empty(dtype, shape);
  std::lock_guard lock(g.mutex);
  out.visit([&](auto a) { fill(a, g.engine); });
  return out;
}

}  // namespace

void RandomEngine::manual_seed(std::uint64_t s) {
  std::lock_guard lock(mutex);
  engine.seed(s);
  seed = s;
}

std::string RandomEngine::state() const {
  std::ostringstream out;
  std::lock_guard lock(const_cast<std::mutex&>(mutex));
  out << engine;
  return out.str();
}

bool RandomEngine::set_state(const std::string& text) {
  // as many numbers as the library writes; where it writes the position in the state after the
  // state words (libstdc++), a position past them is refused, not read out of bounds later
  constexpr std::size_t n = std::mt19937_64::state_size;
  std::istringstream words(text);
  std::vector<unsigned long long> values;
  for (unsigned long long v; words >> v;) values.push_back(v);
  std::ostringstream fresh;
  fresh << std::mt19937_64{};
  std::istringstream fresh_words(fresh.str());
  std::size_t expected = 0;
  for (unsigned long long v; fresh_words >> v;) ++expected;
  if (values.size() != expected) return false;
  if (expected == n + 1 && values.back() > n) return false;
  std::mt19937_64 parsed;
  std::istringstream in(text);
  in >> parsed;
  if (in.fail()) return false;
  in >> std::ws;
  if (!in.eof()) return false;
  std::ostringstream again;
  again << parsed;
  if (again.str() != text) return false;  // not what the library writes for any state
  std::lock_guard lock(mutex);
  engine = parsed;
  return true;
}

RandomEngine& default_engine() {
  static RandomEngine g;  // one for the process, as PyTorch's default CPU generator
  return g;
}

void manual_seed(std::uint64_t seed) { default_engine().manual_seed(seed); }

void philox4x32_10(const std::uint32_t (&counter)[4], const std::uint32_t (&key)[2],
                   std::uint32_t (&out)[4]) {
  std::uint32_t c[4] = {counter[0], counter[1], counter[2], counter[3]};
  std::uint32_t k[2] = {key[0], key[1]};
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {  // the key's Weyl sequence: the golden ratio and sqrt(3) - 1
      k[0] += 0x9E3779B9;
      k[1] += 0xBB67AE85;
    }
    const std::uint64_t p0 = std::uint64_t{0xD2511F53} * c[0];
    const std::uint64_t p1 = std::uint64_t{0xCD9E8D57} * c[2];
    const std::uint32_t next[4] = {
        static_cast<std::uint32_t>(p1 >> 32) ^ c[1] ^ k[0], static_cast<std::uint32_t>(p1),
        static_cast<std::uint32_t>(p0 >> 32) ^ c[3] ^ k[1], static_cast<std::uint32_t>(p0)};
    std::copy(next, next + 4, c);
  }
  std::copy(c, c + 4, out);
}

namespace kernels {

Array randn(Dtype dtype, const Shape& shape, RandomEngine& g) {
  return random_array(g, dtype, shape, [](auto a, std::mt19937_64& engine) {
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

Array rand(Dtype dtype, const Shape& shape, RandomEngine& g) {
  return random_array(g, dtype, shape, [](auto a, std::mt19937_64& engine) {
    using T = typename decltype(a)::value_type;
    for (auto& v : a) {
      T u = static_cast<T>(uniform01(engine));
      if (u >= T(1)) u = std::nextafter(T(1), T(0));  // rounding to float can reach 1
      v = u;
    }
  });
}

Array randint(std::int64_t low, std::int64_t high, Dtype dtype, const Shape& shape,
              RandomEngine& g) {
  const auto range = static_cast<std::uint64_t>(high - low);
  // Rejection keeps every value equally likely.
  const std::uint64_t limit =
      std::numeric_limits<std::uint64_t>::max() - std::numeric_limits<std::uint64_t>::max() % range;
  return random_array(g, dtype, shape, [&](auto a, std::mt19937_64& engine) {
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

Array multinomial(const Array& probs, std::int64_t num_samples, bool replacement, RandomEngine& g) {
  const Array w = probs.to(Dtype::Float64).contiguous();
  const std::int64_t n = w.sizes().back();
  const std::int64_t rows = w.dim() == 2 ? w.sizes()[0] : 1;
  Shape out_shape = w.dim() == 2 ? Shape{rows, num_samples} : Shape{num_samples};
  Array out = Array::empty(Dtype::Int64, out_shape);
  const double* p = w.data<double>();
  std::int64_t* o = out.data<std::int64_t>();
  std::vector<double> weights(static_cast<std::size_t>(n)), cumulative(weights.size());
  std::lock_guard lock(g.mutex);
  for (std::int64_t r = 0; r < rows; ++r) {
    std::copy(p + r * n, p + (r + 1) * n, weights.begin());
    double total = 0;
    bool stale = true;  // the running sums are rebuilt only when a weight changed
    for (std::int64_t s = 0; s < num_samples; ++s) {
      // the first category whose running sum passes u * total; a zero weight adds nothing to
      // the running sum, so it is never the first to pass
      if (stale) {
        total = 0;
        for (std::size_t i = 0; i < weights.size(); ++i) cumulative[i] = total += weights[i];
        stale = false;
      }
      const double u = uniform01(g.engine) * total;
      auto it = std::upper_bound(cumulative.begin(), cumulative.end(), u);
      while (it != cumulative.begin() && it == cumulative.end()) --it;  // rounding at the top
      auto pick = static_cast<std::size_t>(it - cumulative.begin());
      while (weights[pick] == 0 && pick > 0) --pick;
      o[r * num_samples + s] = static_cast<std::int64_t>(pick);
      if (!replacement) {
        weights[pick] = 0;
        stale = true;
      }
    }
  }
  return out;
}

}  // namespace kernels
namespace kernels {

std::pair<Array, Array> dropout(const Array& x_in, double p, RandomEngine& g) {
  const Array x = x_in.contiguous();
  std::uint64_t key = 0;
  {
    std::lock_guard lock(g.mutex);
    key = g.engine();  // one draw per call: the next call has another mask
  }
  // kept when a uniform 32-bit word is >= p 2^32: with probability 1 - p, to 2^-32
  const double t = std::round(p * 0x1p32);
  const auto threshold = static_cast<std::uint32_t>(std::min(t, 0x1p32 - 1));
  Array out = Array::empty_with_sizes(x.dtype(), x.sizes());
  Array mask = Array::empty_with_sizes(x.dtype(), x.sizes());
  detail::dispatch_floating(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T scale = static_cast<T>(1.0 / (1.0 - p));
    const auto kernel = detail::simd::kernels<T>().dropout;
    const T* px = x.data<T>();
    T* po = out.data<T>();
    T* pm = mask.data<T>();
    detail::parallel_for(x.numel(), detail::kGrainMath, [&](std::int64_t b, std::int64_t e) {
      kernel(px, po, pm, b, e, key, threshold, scale);
    });
  });
  return {std::move(out), std::move(mask)};
}

}  // namespace kernels
}  // namespace xg
