// Functions that create tensors: from values, constant fills, ranges, random draws, xtensor.
#pragma once

#include <concepts>
#include <cstdint>
#include <ranges>
#include <span>
#include <vector>

#include "../tensor/random.hpp"
#include "generator.hpp"
#include "tensor.hpp"

namespace xg {

// A 1-D tensor of the values (Float32 unless options say otherwise).
Tensor tensor(const std::vector<double>& values, TensorOptions options = {});
// The values in row-major order, shaped; their count must equal the shape's numel.
Tensor tensor(const std::vector<double>& values, const Shape& shape, TensorOptions options = {});
namespace detail {
Tensor tensor_from_int64(std::span<const std::int64_t> values, const Shape* shape,
                         TensorOptions options);
}  // namespace detail

// Integer data: Int64 unless options give a dtype (torch.tensor of Python ints), every 64-bit
// value exact. Takes a contiguous range of std::int64_t: a std::vector, a std::array, a span.
// A braced list, xg::tensor({1, 2}) or xg::tensor({}), still takes the std::vector<double> form
// above and gives Float32: a braced list deduces no range type, so the forms never compete.
template <class R>
requires std::ranges::contiguous_range<const R&> &&
    std::same_as<std::ranges::range_value_t<R>, std::int64_t>
        Tensor tensor(const R& values, TensorOptions options = {}) {
  return detail::tensor_from_int64(values, nullptr, options);
}
template <class R>
requires std::ranges::contiguous_range<const R&> &&
    std::same_as<std::ranges::range_value_t<R>, std::int64_t>
        Tensor tensor(const R& values, const Shape& shape, TensorOptions options = {}) {
  return detail::tensor_from_int64(values, &shape, options);
}
Tensor scalar_tensor(Scalar value, TensorOptions options = {});  // 0-d

Tensor zeros(const Shape& shape, TensorOptions options = {});
Tensor ones(const Shape& shape, TensorOptions options = {});
Tensor full(const Shape& shape, Scalar value, TensorOptions options = {});
Tensor empty(const Shape& shape, TensorOptions options = {});  // uninitialized values
// t's shape, and t's dtype unless options give one.
Tensor zeros_like(const Tensor& t, std::optional<TensorOptions> options = std::nullopt);
Tensor ones_like(const Tensor& t, std::optional<TensorOptions> options = std::nullopt);
Tensor full_like(const Tensor& t, Scalar value,
                 std::optional<TensorOptions> options = std::nullopt);

// [0, end) or [start, end) in steps; Int64 when every bound is integral and no dtype is given.
Tensor arange(Scalar end, TensorOptions options = {});
Tensor arange(Scalar start, Scalar end, Scalar step = 1, TensorOptions options = {});
Tensor linspace(double start, double end, std::int64_t steps, TensorOptions options = {});

// Random draws from the generator that xg::manual_seed seeds.
Tensor randn(const Shape& shape, TensorOptions options = {});  // standard normal
Tensor rand(const Shape& shape, TensorOptions options = {});   // uniform on [0, 1)
// Uniform integers in [low, high); Int64 unless options give a dtype.
Tensor randint(std::int64_t low, std::int64_t high, const Shape& shape, TensorOptions options = {});
Tensor randint(std::int64_t high, const Shape& shape, TensorOptions options = {});
// The same from a generator the caller owns (LibTorch's argument order: size, generator, options).
Tensor randn(const Shape& shape, const Generator& generator, TensorOptions options = {});
Tensor rand(const Shape& shape, const Generator& generator, TensorOptions options = {});
Tensor randint(std::int64_t low, std::int64_t high, const Shape& shape, const Generator& generator,
               TensorOptions options = {});
Tensor randint(std::int64_t high, const Shape& shape, const Generator& generator,
               TensorOptions options = {});

// num_samples category indices drawn from each row of probs (1-D or 2-D; non-negative, finite
// weights, not necessarily summing to 1), as torch.multinomial: an Int64 [num_samples] or
// [rows, num_samples] tensor; without replacement a row has no category twice.
Tensor multinomial(const Tensor& probs, std::int64_t num_samples, bool replacement = false,
                   std::optional<Generator> generator = std::nullopt);

// A tensor with the values of an xtensor array (T is float, double or int64_t), copied onto
// xgrad's caching allocator.
template <class T>
Tensor from_xarray(xt::xarray<T> a, bool requires_grad = false);

}  // namespace xg
