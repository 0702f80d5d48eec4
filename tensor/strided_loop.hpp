// Internal: walks the broadcast of N contiguous inputs over a contiguous output, row by row.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>

namespace xg::detail {

inline constexpr int kMaxDims = 16;

// Inputs are aligned to the output's trailing dims; a broadcast dim gets stride 0. Dims of size
// 1 are dropped and dims that are contiguous in every operand are merged, so the common cases
// (same shapes, a scalar, a row vector) become one or two long rows.
template <std::size_t N>
struct StridedLoop {
  int ndim = 0;  // >= 1 after build
  std::array<std::int64_t, kMaxDims> sizes{};
  std::array<std::array<std::int64_t, kMaxDims>, N> strides{};

  StridedLoop(std::span<const std::size_t> out,
              const std::array<std::span<const std::size_t>, N>& in) {
    if (out.size() > kMaxDims) {
      throw std::invalid_argument("xgrad supports at most " + std::to_string(kMaxDims) +
                                  " dims, got " + std::to_string(out.size()));
    }
    std::array<std::array<std::int64_t, kMaxDims>, N> full_strides{};
    for (std::size_t k = 0; k < N; ++k) {
      std::int64_t stride = 1;
      const std::size_t offset = out.size() - in[k].size();
      for (std::size_t d = out.size(); d-- > 0;) {
        const std::int64_t size = d < offset ? 1 : static_cast<std::int64_t>(in[k][d - offset]);
        full_strides[k][d] = size == 1 ? 0 : stride;
        stride *= size;
      }
    }
    for (std::size_t d = 0; d < out.size(); ++d) {
      const auto size = static_cast<std::int64_t>(out[d]);
      if (size == 1) continue;
      if (ndim > 0 && mergeable(full_strides, d, size)) {
        sizes[ndim - 1] *= size;
        for (std::size_t k = 0; k < N; ++k) strides[k][ndim - 1] = full_strides[k][d];
        continue;
      }
      sizes[ndim] = size;
      for (std::size_t k = 0; k < N; ++k) strides[k][ndim] = full_strides[k][d];
      ++ndim;
    }
    if (ndim == 0) {  // every size is 1 (or the output is 0-d)
      sizes[0] = 1;
      ndim = 1;
    }
  }

  // Calls row(out_offset, in_offsets, n, inner_strides) for each innermost row.
  template <class F>
  void for_each_row(F&& row) const {
    const int last = ndim - 1;
    const std::int64_t n = sizes[last];
    std::array<std::int64_t, N> inner{};
    for (std::size_t k = 0; k < N; ++k) inner[k] = strides[k][last];
    std::int64_t rows = 1;
    for (int d = 0; d < last; ++d) rows *= sizes[d];
    if (rows == 0 || n == 0) return;
    std::array<std::int64_t, kMaxDims> index{};
    std::array<std::int64_t, N> offsets{};
    for (std::int64_t r = 0; r < rows; ++r) {
      row(r * n, offsets, n, inner);
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
