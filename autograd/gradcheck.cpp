#include "gradcheck.hpp"

#include <cmath>
#include <limits>
#include <sstream>

#include "autograd.hpp"
#include "creation.hpp"
#include "grad_mode.hpp"
#include "ops.hpp"

namespace xg::autograd {

namespace {

GradcheckReport failure(std::string message) {
  GradcheckReport r;
  r.ok = false;
  r.message = std::move(message);
  return r;
}

// fn(inputs) as a flat Float64 vector, without recording.
std::vector<double> evaluate(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                             const std::vector<Tensor>& inputs) {
  NoGradGuard no_grad;
  const Tensor out = fn(inputs).to(kFloat64).contiguous();
  const double* p = out.data_ptr<double>();
  return std::vector<double>(p, p + out.numel());
}

}  // namespace

GradcheckReport gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                          const std::vector<Tensor>& inputs, const GradcheckOptions& options) {
  std::vector<std::size_t> checked;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined() || !inputs[i].requires_grad()) continue;
    if (inputs[i].dtype() != kFloat64) {
      return failure("gradcheck: input " + std::to_string(i) + " is " +
                     std::string(dtype_name(inputs[i].dtype())) +
                     "; finite differences need Float64 inputs");
    }
    checked.push_back(i);
  }
  if (checked.empty()) return failure("gradcheck: no input requires grad");

  const Tensor out = fn(inputs);
  if (!out.defined() || out.dtype() != kFloat64) {
    return failure("gradcheck: the function must return a Float64 tensor");
  }
  const std::int64_t n_out = out.numel();

  // Analytical Jacobian: one backward per output element, with a one-hot gradient.
  std::vector<Tensor> wrt;
  for (auto i : checked) wrt.push_back(inputs[i]);
  std::vector<std::vector<std::vector<double>>> analytical(checked.size());  // [input][out][elem]
  for (std::int64_t j = 0; j < n_out; ++j) {
    Tensor one_hot = zeros(out.shape(), kFloat64);
    one_hot.data_ptr<double>()[j] = 1.0;
    std::vector<Tensor> grads;
    if (out.requires_grad()) grads = grad({out}, wrt, {one_hot}, true, false, true);
    for (std::size_t k = 0; k < checked.size(); ++k) {
      const std::int64_t n_in = inputs[checked[k]].numel();
      std::vector<double> row(static_cast<std::size_t>(n_in), 0.0);
      if (k < grads.size() && grads[k].defined()) {
        const Tensor g = grads[k].to(kFloat64).contiguous();
        for (std::int64_t e = 0; e < n_in; ++e) row[e] = g.data_ptr<double>()[e];
      }
      analytical[k].push_back(std::move(row));
    }
  }

  // Numerical Jacobian by central differences, compared element by element.
  GradcheckReport report;
  double worst_excess = -std::numeric_limits<double>::infinity();
  for (std::size_t k = 0; k < checked.size(); ++k) {
    const Tensor& x = inputs[checked[k]];
    double* data = x.data_ptr<double>();
    for (std::int64_t e = 0; e < x.numel(); ++e) {
      const double saved = data[e];
      data[e] = saved + options.eps;
      const std::vector<double> plus = evaluate(fn, inputs);
      data[e] = saved - options.eps;
      const std::vector<double> minus = evaluate(fn, inputs);
      data[e] = saved;
      for (std::int64_t j = 0; j < n_out; ++j) {
        const double numerical = (plus[j] - minus[j]) / (2 * options.eps);
        const double a = analytical[k][j][e];
        const double error = std::abs(a - numerical);
        // How far past the tolerance; NaN is infinitely far.
        const double excess = std::isnan(error)
                                  ? std::numeric_limits<double>::infinity()
                                  : error - (options.atol + options.rtol * std::abs(numerical));
        if (excess > worst_excess) {
          worst_excess = excess;
          report.worst_input = checked[k];
          report.worst_output = j;
          report.worst_element = e;
          report.analytical = a;
          report.numerical = numerical;
        }
        report.max_abs_error = std::max(report.max_abs_error, error);
      }
    }
  }
  report.ok = worst_excess <= 0;
  std::ostringstream msg;
  msg.precision(10);
  msg << (report.ok ? "gradcheck passed" : "gradcheck failed") << ": worst at input "
      << report.worst_input << ", element " << report.worst_element << ", output element "
      << report.worst_output << ": analytical " << report.analytical << ", numerical "
      << report.numerical << " (eps " << options.eps << ", atol " << options.atol << ", rtol "
      << options.rtol << ")";
  report.message = msg.str();
  return report;
}

}  // namespace xg::autograd
