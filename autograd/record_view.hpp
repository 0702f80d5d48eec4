// Internal: how a view op records itself (shape_ops.cpp and slice_ops.cpp).
#pragma once

#include <utility>

#include "grad_mode.hpp"
#include "record.hpp"

namespace xg::autograd {

// A view of t's data (sharing its buffer) recorded with the backward `backward`.
// A view made in grad mode remembers its base, so that an in-place op on it can rewrite the
// base's history (CopySlices); a copy (reshape's fallback) is no view.
template <class F>
Tensor record_view(const char* op, const Tensor& t, Array view, F&& backward) {
  const bool aliases = view.shares_storage(detail::array_of(t));
  Tensor out = record(op, std::move(view), {t}, kSaveNone, std::forward<F>(backward));
  if (aliases && GradMode::is_enabled()) {
    const auto& in = t.impl();
    out.impl()->view_base = in->view_base ? in->view_base : in;
    out.impl()->view_version = detail::array_of(out).version();
  }
  return out;
}

}  // namespace xg::autograd
