// Creating tensors: from values, fills, ranges, random draws and xtensor arrays.
#include "creation.hpp"

#include <algorithm>
#include <cmath>
#include <xtensor/xarray.hpp>

#include "../tensor/check.hpp"
#include "../tensor/kernels.hpp"
#include "tensor_impl.hpp"

namespace xg {

using detail::make_tensor;

namespace {

Tensor finish(Array a, const TensorOptions& options) {
  Tensor t = make_tensor(std::move(a));
  if (options.requires_grad()) t.requires_grad_(true);
  return t;
}

// full, and the ops built on it, each naming itself in errors.
Tensor filled(const Shape& shape, const Scalar& value, const TensorOptions& options,
              const char* op) {
  check_shape(shape, op, element_size(options.dtype()));
  Array a = Array::empty(options.dtype(), shape);
  a.visit([&](auto x) {
    using T = typename std::decay_t<decltype(x)>::value_type;
    if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
      std::fill(x.begin(), x.end(), value.to_int64(op));
    } else {  // a Bool is true for any nonzero value, NaN included
      std::fill(x.begin(), x.end(), value.to<T>());
    }
  });
  return finish(std::move(a), options);
}

// arange and linspace have no Bool version in PyTorch either.
void check_numeric(Dtype dtype, const char* op) {
  XG_CHECK_ARG(dtype != kBool, op, ": expected a Float32, Float64 or Int64 dtype, got Bool");
}

}  // namespace

namespace {

// A tensor of `shape` filled from `values` (row-major), each converted by `convert` to the
// dtype's element type; the two forms of xg::tensor.
template <class V, class Convert>
Tensor tensor_from(std::span<const V> values, const Shape& shape, TensorOptions options,
                   Convert convert) {
  const std::int64_t numel = check_shape(shape, "tensor", element_size(options.dtype()));
  XG_CHECK_ARG(numel == static_cast<std::int64_t>(values.size()), "tensor: ", values.size(),
               " values do not fill the shape ", shape_to_string(shape), " (", numel, " elements)");
  Array a = Array::empty(options.dtype(), shape);
  a.visit([&](auto x) {
    using T = typename std::decay_t<decltype(x)>::value_type;
    std::transform(values.begin(), values.end(), x.data(),
                   [&](V v) { return convert(v, static_cast<T*>(nullptr)); });
  });
  return finish(std::move(a), options);
}

}  // namespace

Tensor tensor(const std::vector<double>& values, const Shape& shape, TensorOptions options) {
  return tensor_from<double>(values, shape, options, []<class T>(double v, T*) -> T {
    if constexpr (std::is_same_v<T, bool>) {
      return v != 0;  // NaN included, as PyTorch's conversion
    } else if constexpr (std::is_integral_v<T>) {
      return checked_int64(v, "tensor");
    } else {
      return static_cast<T>(v);
    }
  });
}

Tensor tensor(const std::vector<double>& values, TensorOptions options) {
  return tensor(values, {static_cast<std::int64_t>(values.size())}, options);
}

Tensor detail::tensor_from_int64(std::span<const std::int64_t> values, const Shape* shape_or_null,
                                 TensorOptions options) {
  if (!options.has_dtype()) options = options.dtype(Dtype::Int64);
  const Shape shape =
      shape_or_null ? *shape_or_null : Shape{static_cast<std::int64_t>(values.size())};
  return tensor_from<std::int64_t>(values, shape, options, []<class T>(std::int64_t v, T*) -> T {
    if constexpr (std::is_same_v<T, bool>) {
      return v != 0;
    } else {
      return static_cast<T>(v);  // to a float: the nearest value, as PyTorch's conversion
    }
  });
}

Tensor scalar_tensor(Scalar value, TensorOptions options) { return full({}, value, options); }

Tensor full(const Shape& shape, Scalar value, TensorOptions options) {
  return filled(shape, value, options, "full");
}
Tensor zeros(const Shape& shape, TensorOptions options) {
  return filled(shape, 0, options, "zeros");
}
Tensor ones(const Shape& shape, TensorOptions options) { return filled(shape, 1, options, "ones"); }

Tensor empty(const Shape& shape, TensorOptions options) {
  check_shape(shape, "empty", element_size(options.dtype()));
  return finish(Array::empty(options.dtype(), shape), options);
}

namespace {
TensorOptions like(const Tensor& t, const std::optional<TensorOptions>& options, const char* op) {
  detail::check_defined(t, op);
  if (options) return options->has_dtype() ? *options : options->dtype(t.dtype());
  return TensorOptions().dtype(t.dtype());
}
}  // namespace

Tensor zeros_like(const Tensor& t, std::optional<TensorOptions> options) {
  return full(t.shape(), 0, like(t, options, "zeros_like"));
}
Tensor ones_like(const Tensor& t, std::optional<TensorOptions> options) {
  return full(t.shape(), 1, like(t, options, "ones_like"));
}
Tensor full_like(const Tensor& t, Scalar value, std::optional<TensorOptions> options) {
  return full(t.shape(), value, like(t, options, "full_like"));
}

Tensor arange(Scalar end, TensorOptions options) { return arange(0, end, 1, options); }

Tensor arange(Scalar start, Scalar end, Scalar step, TensorOptions options) {
  const double s = start.to_double(), e = end.to_double(), st = step.to_double();
  XG_CHECK_ARG(!(st == 0), "arange: step must be nonzero");
  XG_CHECK_ARG(std::isfinite(s) && std::isfinite(e) && std::isfinite(st),
               "arange: start, end and step must be finite");
  XG_CHECK_ARG(!((st > 0 && e < s) || (st < 0 && e > s)),
               "arange: upper bound and larger bound inconsistent with step sign (start ",
               detail::fixed6(s), ", end ", detail::fixed6(e), ", step ", detail::fixed6(st), ")");
  const bool integral = start.is_integral() && end.is_integral() && step.is_integral();
  const Dtype dtype = options.has_dtype() ? options.dtype() : (integral ? kInt64 : kFloat32);
  check_numeric(dtype, "arange");
  const double count = std::ceil((e - s) / st);
  XG_CHECK_ARG(count < 0x1p63,  // as PyTorch, before the count is converted
               "arange: invalid size, possible overflow? (start ", detail::fixed6(s), ", end ",
               detail::fixed6(e), ", step ", detail::fixed6(st), " give ", detail::fixed6(count),
               " elements)");
  const Shape shape{static_cast<std::int64_t>(count)};
  check_shape(shape, "arange", element_size(dtype));
  return finish(kernels::arange(s, st, shape[0], dtype), options.dtype(dtype));
}

Tensor linspace(double start, double end, std::int64_t steps, TensorOptions options) {
  XG_CHECK_ARG(steps >= 0, "linspace: number of steps must be non-negative");
  check_numeric(options.dtype(), "linspace");
  check_shape(Shape{steps}, "linspace", element_size(options.dtype()));
  return finish(kernels::linspace(start, end, steps, options.dtype()), options);
}

Tensor randn(const Shape& shape, const Generator& generator, TensorOptions options) {
  check_shape(shape, "randn", element_size(options.dtype()));
  XG_CHECK_ARG(is_floating(options.dtype()), "randn: expected a floating dtype, got ",
               dtype_name(options.dtype()));
  return finish(kernels::randn(options.dtype(), shape, generator.engine()), options);
}

Tensor rand(const Shape& shape, const Generator& generator, TensorOptions options) {
  check_shape(shape, "rand", element_size(options.dtype()));
  XG_CHECK_ARG(is_floating(options.dtype()), "rand: expected a floating dtype, got ",
               dtype_name(options.dtype()));
  return finish(kernels::rand(options.dtype(), shape, generator.engine()), options);
}

Tensor randint(std::int64_t low, std::int64_t high, const Shape& shape, const Generator& generator,
               TensorOptions options) {
  const Dtype dtype = options.has_dtype() ? options.dtype() : kInt64;
  check_shape(shape, "randint", element_size(dtype));
  XG_CHECK_ARG(low < high, "randint: expected low < high, got low ", low, " and high ", high);
  return finish(kernels::randint(low, high, dtype, shape, generator.engine()),
                options.dtype(dtype));
}

Tensor randint(std::int64_t high, const Shape& shape, const Generator& generator,
               TensorOptions options) {
  return randint(0, high, shape, generator, options);
}

Tensor randn(const Shape& shape, TensorOptions options) {
  return randn(shape, default_generator(), options);
}

Tensor rand(const Shape& shape, TensorOptions options) {
  return rand(shape, default_generator(), options);
}

Tensor randint(std::int64_t low, std::int64_t high, const Shape& shape, TensorOptions options) {
  return randint(low, high, shape, default_generator(), options);
}

Tensor randint(std::int64_t high, const Shape& shape, TensorOptions options) {
  return randint(0, high, shape, default_generator(), options);
}

Tensor multinomial(const Tensor& probs, std::int64_t num_samples, bool replacement,
                   std::optional<Generator> generator) {
  constexpr const char* op = "multinomial";
  detail::check_defined(probs, op);
  XG_CHECK_ARG(probs.dim() == 1 || probs.dim() == 2, op, ": prob_dist must be 1 or 2 dim, got ",
               shape_to_string(probs.shape()));
  XG_CHECK_ARG(is_floating(probs.dtype()), op, ": expected a Float32 or Float64 tensor, got ",
               shape_to_string(probs.shape()), " ", dtype_name(probs.dtype()));
  XG_CHECK_ARG(num_samples > 0, op, ": cannot sample n_sample <= 0 samples, got ", num_samples);
  const std::int64_t categories = probs.size(-1);
  XG_CHECK_ARG(replacement || num_samples <= categories, op, ": cannot sample n_sample (",
               num_samples, ") > prob_dist.size(-1) (", categories,
               ") samples without replacement");
  // each row: finite, non-negative, a positive sum, and without replacement enough categories
  const Tensor rows = probs.detach().to(kFloat64).contiguous();
  const double* p = rows.data_ptr<double>();
  const std::int64_t n_rows = probs.dim() == 2 ? probs.size(0) : 1;
  XG_CHECK_ARG(categories > 0 && n_rows > 0, op, ": expected a non-empty prob_dist, got ",
               shape_to_string(probs.shape()));
  for (std::int64_t r = 0; r < n_rows; ++r) {
    double sum = 0;
    std::int64_t nonzero = 0;
    for (std::int64_t i = 0; i < categories; ++i) {
      const double v = p[r * categories + i];
      XG_CHECK_ARG(std::isfinite(v) && v >= 0, op,
                   ": probability tensor contains either inf, nan or element < 0");
      sum += v;
      nonzero += v > 0;
    }
    XG_CHECK_ARG(sum > 0, op, ": invalid multinomial distribution (sum of probabilities <= 0)");
    XG_CHECK_ARG(replacement || nonzero >= num_samples, op,
                 ": invalid multinomial distribution (with replacement=False, not enough "
                 "non-negative category to sample)");
  }
  const Generator g = generator ? *generator : default_generator();
  return make_tensor(
      kernels::multinomial(detail::array_of(rows), num_samples, replacement, g.engine()));
}

template <class T>
Tensor from_xarray(xt::xarray<T> a, bool requires_grad) {
  const Shape sizes(a.shape().begin(), a.shape().end());
  Array copy = Array::empty_with_sizes(dtype_of<T>(), sizes);  // onto xgrad's allocator
  std::copy(a.data(), a.data() + a.size(), copy.data<T>());
  Tensor t = detail::make_tensor(std::move(copy));
  if (requires_grad) t.requires_grad_(true);
  return t;
}
template Tensor from_xarray<float>(xt::xarray<float>, bool);
template Tensor from_xarray<double>(xt::xarray<double>, bool);
template Tensor from_xarray<std::int64_t>(xt::xarray<std::int64_t>, bool);
template Tensor from_xarray<bool>(xt::xarray<bool>, bool);

}  // namespace xg
