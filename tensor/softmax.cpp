// The softmax family: softmax, log_softmax and logsumexp, shifted by the max for stability.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels.hpp"
#include "parallel.hpp"
#include "simd.hpp"

namespace xg::kernels {
namespace simd = detail::simd;
namespace {

// The shift of a row, its max (0 when the max is infinite, so that the arithmetic gives inf or
// NaN as PyTorch's), and the sum of exp(v - shift), written to exps (which may be v): what every
// softmax here computes, the exps in the vector kernels of this CPU (simd.hpp).
template <class T>
std::pair<T, T> shift_and_exp_sum(const T* v, std::int64_t n, T* exps) {
  T m = -std::numeric_limits<T>::infinity();
  for (std::int64_t i = 0; i < n; ++i) m = std::max(m, v[i]);
  if (!std::isfinite(m)) m = 0;
  return {m, simd::kernels<T>().exp_shifted(v, m, exps, n)};
}

// A buffer of n values for the calling thread, reused by its next call (and kept for the
// thread's life: as large as the longest strided line or row it has seen).
template <class T>
T* scratch(std::int64_t n) {
  thread_local std::vector<T> buffer;
  if (buffer.size() < static_cast<std::size_t>(n)) buffer.resize(static_cast<std::size_t>(n));
  return buffer.data();
}

// Calls f(row pointer, length, stride) for each of the outer * inner lines along dim.
template <class T, class F>
void for_each_line(T* data, std::span<const std::int64_t> sizes, std::int64_t dim, F&& f) {
  std::int64_t outer = 1, inner = 1;
  const std::int64_t n =
      sizes.empty() ? 1 : static_cast<std::int64_t>(sizes[static_cast<std::size_t>(dim)]);
  for (std::size_t d = 0; d < sizes.size(); ++d) {
    if (static_cast<std::int64_t>(d) < dim) outer *= static_cast<std::int64_t>(sizes[d]);
    if (static_cast<std::int64_t>(d) > dim) inner *= static_cast<std::int64_t>(sizes[d]);
  }
  // lines are independent: split across the threads, about kGrainMath elements at least each
  detail::parallel_for(outer * inner, detail::kGrainMath / std::max<std::int64_t>(n, 1),
                       [&](std::int64_t begin, std::int64_t end) {
                         for (std::int64_t l = begin; l < end; ++l) {
                           f(data + (l / inner) * n * inner + l % inner, n, inner);
                         }
                       });
}

template <bool Log>
Array softmax_impl(const Array& x, std::int64_t dim) {
  Array out = x.clone();             // a contiguous copy, then transformed line by line in place
  if (out.numel() == 0) return out;  // no lines: and their count may be huge
  out.visit([&](auto a) {
    using T = typename decltype(a)::value_type;
    if constexpr (std::is_floating_point_v<T>) {
      for_each_line(a.data(), out.sizes(), dim, [](T* line, std::int64_t n, std::int64_t s) {
        // A strided line is gathered into a buffer and written back.
        T* v = line;
        if (s != 1) {
          v = scratch<T>(2 * n);
          for (std::int64_t i = 0; i < n; ++i) v[i] = line[i * s];
        }
        if constexpr (Log) {
          // (x - m) - log(total), not x - (m + log(total)): exact where x is the max.
          T* exps = s != 1 ? v + n : scratch<T>(n);
          const auto [m, total] = shift_and_exp_sum(v, n, exps);
          const T log_total = std::log(total);
          for (std::int64_t i = 0; i < n; ++i) v[i] = (v[i] - m) - log_total;
        } else {
          const T total = shift_and_exp_sum(v, n, v).second;
          const T inv = T(1) / total;
          for (std::int64_t i = 0; i < n; ++i) v[i] *= inv;
        }
        if (s != 1) {
          for (std::int64_t i = 0; i < n; ++i) line[i * s] = v[i];
        }
      });
    }
  });
  return out;
}

}  // namespace

Array softmax(const Array& x, std::int64_t dim) { return softmax_impl<false>(x, dim); }
Array log_softmax(const Array& x, std::int64_t dim) { return softmax_impl<true>(x, dim); }

namespace {

// Calls f(row index, row pointer) for each row of a contiguous [N, C] (or [C]) array x, in
// parallel, with the row's shift, the sum of exp(v - shift) and those exps, computed as
// softmax_impl does.
template <class T, class F>
void for_each_row_softmax(const T* x, std::int64_t rows, std::int64_t c, F&& f) {
  detail::parallel_for(rows, detail::kGrainMath / std::max<std::int64_t>(c, 1) + 1,
                       [&](std::int64_t begin, std::int64_t end) {
                         T* exps = scratch<T>(c);
                         for (std::int64_t i = begin; i < end; ++i) {
                           const T* v = x + i * c;
                           const auto [m, total] = shift_and_exp_sum(v, c, exps);
                           f(i, v, m, total, exps);
                         }
                       });
}

}  // namespace

Array cross_entropy_rows(const Array& x_in, const Array& target_in, std::int64_t ignore_index) {
  const Array x = x_in.contiguous(), target = target_in.contiguous();
  const std::int64_t c = x.sizes().back(), rows = target.numel();
  Array out = Array::empty(x.dtype(), target.shape());
  detail::dispatch_floating(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const std::int64_t* t = target.data<std::int64_t>();
    T* o = out.data<T>();
    for_each_row_softmax<T>(
        x.data<T>(), rows, c, [&](std::int64_t i, const T* v, T m, T total, const T*) {
          // -log_softmax at the target: -((v - m) - log(total)), as the composed form rounds it
          o[i] = t[i] == ignore_index ? T(0) : -((v[t[i]] - m) - std::log(total));
        });
  });
  return out;
}

Array cross_entropy_rows_backward(const Array& x_in, const Array& target_in,
                                  std::int64_t ignore_index, const Array& row_scale) {
  const Array x = x_in.contiguous(), target = target_in.contiguous();
  const Array scale = row_scale.contiguous();
  const std::int64_t c = x.sizes().back(), rows = target.numel();
  Array out = Array::empty(x.dtype(), x.shape());
  detail::dispatch_floating(x.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const std::int64_t* t = target.data<std::int64_t>();
    const T* sc = scale.data<T>();
    const bool per_row = scale.numel() == rows && rows != 1;
    T* o = out.data<T>();
    for_each_row_softmax<T>(x.data<T>(), rows, c,
                            [&](std::int64_t i, const T*, T, T total, const T* exps) {
                              T* d = o + i * c;
                              if (t[i] == ignore_index) {
                                std::fill(d, d + c, T(0));
                                return;
                              }
                              const T inv = T(1) / total, g = sc[per_row ? i : 0];
                              // ((softmax - one_hot) * valid) * g, valid = 1: the composed form's
                              // roundings
                              for (std::int64_t j = 0; j < c; ++j) d[j] = (exps[j] * inv) * g;
                              d[t[i]] = ((exps[t[i]] * inv) - T(1)) * g;
                            });
  });
  return out;
}

Array logsumexp(const Array& x, const std::vector<std::int64_t>& dims, bool keepdim) {
  Array m = amax(x, dims, true);
  // An infinite max would make x - m NaN; shifting by 0 there gives PyTorch's inf / -inf.
  m.visit([](auto a) {
    for (auto& v : a) {
      if (!std::isfinite(v)) v = 0;
    }
  });
  Array shifted = unary(UnaryOp::Exp, binary(BinaryOp::Sub, x, m));
  Array out = binary(BinaryOp::Add, unary(UnaryOp::Log, sum(shifted, dims, true)), m);
  if (keepdim) return out;
  Shape squeezed;
  const auto& sizes = x.sizes();
  std::vector<bool> reduced(sizes.size(), dims.empty());
  for (auto d : dims) reduced[static_cast<std::size_t>(d)] = true;
  for (std::size_t d = 0; d < sizes.size(); ++d) {
    if (!reduced[d]) squeezed.push_back(static_cast<std::int64_t>(sizes[d]));
  }
  return reshape(out, squeezed);
}

}  // namespace xg::kernels
