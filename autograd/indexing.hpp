// Tensor indexing as LibTorch's torch::indexing: x.index({Slice(), -1}) is Python's x[:, -1].
// Integers (and 0-d Int64 tensors), slices, None and Ellipsis give views (through select, slice
// and unsqueeze, so gradients and in-place writes reach the base). As in PyTorch, the advanced
// indices give copies: one 1-D Int64 tensor (index_select; negative entries count from the end),
// true/false (and 0-d Bool tensors: a new dim of size 1 or 0), and a Bool mask of the tensor's
// whole shape as the only index (masked_select). At most one advanced index per call; PyTorch's
// broadcasting of several, multi-dim index tensors and partial masks are not supported.
// index_put_ (assignment through an index) is not implemented.
#pragma once

#include <cstdint>
#include <optional>
#include <variant>

#include "tensor.hpp"

namespace xg::indexing {

// start:stop:step; a missing bound is the start or end of the dim, a missing step is 1.
struct Slice {
  Slice(std::optional<std::int64_t> start = std::nullopt,
        std::optional<std::int64_t> stop = std::nullopt,
        std::optional<std::int64_t> step = std::nullopt)
      : start(start), stop(stop), step(step.value_or(1)) {}
  std::optional<std::int64_t> start, stop;
  std::int64_t step;
};

struct EllipsisIndexType {
  explicit constexpr EllipsisIndexType() = default;
};
inline constexpr EllipsisIndexType Ellipsis{};        // also written "..."
inline constexpr std::nullopt_t None = std::nullopt;  // a new dim of size 1, as LibTorch's

// One entry of an index list.
class TensorIndex {
 public:
  TensorIndex(std::nullopt_t) : value_(NoneTag{}) {}
  TensorIndex(EllipsisIndexType) : value_(EllipsisIndexType{}) {}
  TensorIndex(const char* text);  // "..." only
  TensorIndex(int i) : value_(static_cast<std::int64_t>(i)) {}
  TensorIndex(std::int64_t i) : value_(i) {}
  TensorIndex(bool b) : value_(b) {}
  TensorIndex(Slice s) : value_(s) {}
  TensorIndex(Tensor t) : value_(std::move(t)) {}

  struct NoneTag {};
  using Value = std::variant<NoneTag, EllipsisIndexType, std::int64_t, bool, Slice, Tensor>;
  const Value& value() const { return value_; }

 private:
  Value value_;
};

}  // namespace xg::indexing
