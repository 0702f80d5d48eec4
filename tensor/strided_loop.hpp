// Internal: walks N strided operands over one shape, row by row. Operand 0 is usually the
// output; inputs broadcast to the shape.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "check.hpp"

namespace xg::detail {

inline constexpr int kMaxDims = 16;

// One operand: its sizes and element strides (aligned to the loop's trailing dims; a missing
// leading dim or a size-1 dim broadcasts with stride 0).
struct Operand {
  std::span<const std::int64_t> sizes;
  std::span<const std::int64_t> strides;
};

// Dims of size 1 are dropped and dims that are contiguous in every operand are merged, so the
// common cases (same shapes, a scalar, a row vector) become one or two long rows.
template <std::size_t N>
struct StridedLoop {
  int ndim = 0;  // >= 1 after build
  std::array<std::int64_t, kMaxDims> sizes{};
  std::array<std::array<std::int64_t, kMaxDims>, N> strides{};

  StridedLoop(std::span<const std::int64_t> shape, const std::array<Operand, N>& ops) {
    XG_CHECK_ARG(shape.size() <= kMaxDims, "xgrad supports at most ", kMaxDims, " dims, got ",
                 shape.size());
    std::array<std::array<std::int64_t, kMaxDims>, N> full{};
    for (std::size_t k = 0; k < N; ++k) {
      const std::size_t lead = shape.size() - ops[k].sizes.size();
      for (std::size_t d = 0; d < shape.size(); ++d) {
        full[k][d] = d < lead || ops[k].sizes[d - lead] == 1 ? 0 : ops[k].strides[d - lead];
      }
    }
    for (std::size_t d = 0; d < shape.size(); ++d) {
      const auto size = static_cast<std::int64_t>(shape[d]);
      if (size == 1) continue;
      if (ndim > 0 && mergeable(full, d, size)) {
        sizes[ndim - 1] *= size;
        for (std::size_t k = 0; k < N; ++k) strides[k][ndim - 1] = full[k][d];
        continue;
      }
      sizes[ndim] = size;
      for (std::size_t k = 0; k < N; ++k) strides[k][ndim] = full[k][d];
      ++ndim;
    }
    if (ndim == 0) {  // every size is 1 (or the shape is 0-d)
      sizes[0] = 1;
      ndim = 1;
    }
  }

  // The number of innermost rows, and the length of each.
  std::int64_t row_count() const {
    std::int64_t rows = 1;
    for (int d = 0; d < ndim - 1; ++d) rows *= sizes[d];
    return rows;
  }
  std::int64_t row_length() const { return sizes[ndim - 1]; }

  // Calls row(offsets, n, inner_strides) for each innermost row: offsets[k] is operand k's
  // element offset of the row's first element.
  template <class F>
  void for_each_row(F&& row) const {
    for_each_row_in(0, row_count(), row);
  }

  // The same for rows [begin, end) only, in order (a thread's share of the rows).
  template <class F>
  void for_each_row_in(std::int64_t begin, std::int64_t end, F&& row) const {
    const int last = ndim - 1;
    const std::int64_t n = sizes[last];
    std::array<std::int64_t, N> inner{};
    for (std::size_t k = 0; k < N; ++k) inner[k] = strides[k][last];
    if (begin >= end || n == 0) return;
    std::array<std::int64_t, kMaxDims> index{};
    std::array<std::int64_t, N> offsets{};
    for (std::int64_t d = last - 1, rest = begin; d >= 0; --d) {  // row `begin`'s index
      index[d] = rest % sizes[d];
      rest /= sizes[d];
      for (std::size_t k = 0; k < N; ++k) offsets[k] += index[d] * strides[k][d];
    }
    for (std::int64_t r = begin; r < end; ++r) {
      row(offsets, n, inner);
      for (int d = last - 1; d >= 0; --d) {  // odometer step over the outer dims
        for (std::size_t k = 0; k < N; ++k) offsets[k] += strides[k][d];
        if (++index[d] < sizes[d]) break;
        for (std::size_t k = 0; k < N; ++k) offsets[k] -= strides[k][d] * sizes[d];
        index[d] = 0;
      }
    }
  }

 private:
  bool mergeable(const std::array<std::array<std::int64_t, kMaxDims>, N>& full, std::size_t d,
                 std::int64_t size) const {
    for (std::size_t k = 0; k < N; ++k) {
      if (strides[k][ndim - 1] != full[k][d] * size) return false;
    }
    return true;
  }
};

}  // namespace xg::detail
