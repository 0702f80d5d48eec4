// Ops that join tensors, and their derivatives: cat, and stack built on it.
#include "op_prelude.hpp"

namespace xg {

Tensor cat(const std::vector<Tensor>& tensors, std::int64_t dim) {
  XG_CHECK_ARG(!tensors.empty(), "cat: expected a non-empty list of tensors");
  for (const auto& x : tensors) check_defined(x, "cat");
  const Tensor& first = tensors.front();
  XG_CHECK_ARG(first.dim() != 0, "cat: 0-d tensors cannot be concatenated (use stack)");
  const std::int64_t d = normalize_dim(dim, first.dim(), "cat");
  Dtype dtype = first.dtype();
  const Shape ref = first.shape();
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const Shape s = tensors[i].shape();
    bool fits = s.size() == ref.size();
    for (std::size_t k = 0; fits && k < s.size(); ++k) {
      fits = static_cast<std::int64_t>(k) == d || s[k] == ref[k];
    }
    XG_CHECK_ARG(fits, "cat: tensor ", i, " ", describe(tensors[i]), " does not match tensor 0 ",
                 describe(first), " outside dim ", d);
    dtype = promote_types(dtype, tensors[i].dtype());
  }
  std::vector<Array> converted;
  converted.reserve(tensors.size());
  std::vector<const Array*> parts;
  for (const auto& x : tensors) {
    if (x.dtype() == dtype) {
      parts.push_back(&array_of(x));
    } else {
      converted.push_back(array_of(x).to(dtype));
      parts.push_back(&converted.back());
    }
  }
  Shape sizes;
  Shape out_shape = ref;
  out_shape[static_cast<std::size_t>(d)] = 0;
  for (const auto& x : tensors) {
    sizes.push_back(x.size(d));
    std::int64_t& total = out_shape[static_cast<std::size_t>(d)];
    XG_CHECK_ARG(!__builtin_add_overflow(total, sizes.back(), &total), "cat: the sizes along dim ",
                 d, " add up to more than int64 can hold");
  }
  check_shape(out_shape, "cat", element_size(dtype));
  // std::initializer_list cannot hold a runtime count: cat records its node by hand.
  Tensor out = detail::make_tensor(kernels::cat(parts, d));
  if (!autograd::should_record(tensors)) return out;
  return autograd::attach(out, "cat", tensors, autograd::kSaveNone,
                          [d, sizes](const Tensor& g, const BackwardArgs&) {
                            Grads grads;
                            std::int64_t start = 0;
                            for (auto size : sizes) {
                              grads.push_back(narrow(g, d, start, size));
                              start += size;
                            }
                            return grads;
                          });
}

Tensor stack(const std::vector<Tensor>& tensors, std::int64_t dim) {
  XG_CHECK_ARG(!tensors.empty(), "stack: expected a non-empty list of tensors");
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    check_defined(tensors[i], "stack");
    XG_CHECK_ARG(tensors[i].shape() == tensors[0].shape(),
                 "stack: every tensor must have the same shape; tensor 0 is ", describe(tensors[0]),
                 ", tensor ", i, " is ", describe(tensors[i]));
  }
  const std::int64_t d = normalize_dim(dim, tensors[0].dim() + 1, "stack");
  std::vector<Tensor> parts;
  parts.reserve(tensors.size());
  for (const auto& x : tensors) parts.push_back(unsqueeze(x, d));
  return cat(parts, d);
}

}  // namespace xg
