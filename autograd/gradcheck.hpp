// gradcheck: compares autograd's gradients with central finite differences in Float64.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "tensor.hpp"

namespace xg::autograd {

// torch.autograd.gradcheck's defaults.
struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-5;
  double rtol = 1e-3;
};

// What gradcheck found: ok, and the element whose gradient differs most (which input, which
// output element, which input element) with autograd's and the finite-difference value.
struct GradcheckReport {
  bool ok = true;
  std::string message;  // the worst element, or why the check could not run
  std::size_t worst_input = 0;
  std::int64_t worst_output = 0;
  std::int64_t worst_element = 0;
  double analytical = 0;
  double numerical = 0;
  double max_abs_error = 0;
  explicit operator bool() const { return ok; }
};

// Checks every element of d fn(inputs) / d input for each input that requires grad. Inputs must
// be Float64 (finite differences in Float32 cannot meet the tolerances); fn must give Float64.
GradcheckReport gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                          const std::vector<Tensor>& inputs, const GradcheckOptions& options = {});

}  // namespace xg::autograd
