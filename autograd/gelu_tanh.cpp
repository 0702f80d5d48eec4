// gelu(t, approximate): the exact form is the registry's gelu; the tanh form,
// 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))), is one node with its own backward, the
// derivative PyTorch's GeluBackward uses for approximate='tanh'; both are fused kernels
// (tensor/simd.hpp), and the backward is recorded term by term under create_graph.
#include <cmath>
#include <numbers>
#include <string>
#include <string_view>
#include <vector>

#include "../tensor/check.hpp"
#include "../tensor/kernels.hpp"
#include "function.hpp"
#include "grad_mode.hpp"
#include "ops.hpp"
#include "tensor_impl.hpp"

namespace xg {

namespace {

constexpr double kKappa = 0.044715;
const double kBeta = std::sqrt(2.0 / std::numbers::pi);

struct GeluTanh : autograd::Function<GeluTanh> {
  static Tensor forward(autograd::AutogradContext* ctx, const Tensor& x) {
    ctx->save_for_backward({x});
    return detail::make_tensor(kernels::gelu_tanh(detail::array_of(x)));
  }

  static std::vector<Tensor> backward(autograd::AutogradContext* ctx, std::vector<Tensor> grads) {
    const Tensor x = ctx->get_saved_variables()[0];
    const Tensor& g = grads[0];
    if (!GradMode::is_enabled() && g.dtype() == x.dtype() && g.shape() == x.shape()) {
      return {detail::make_tensor(
          kernels::gelu_backward(detail::array_of(g), detail::array_of(x), /*tanh_form=*/true))};
    }
    const Tensor x_sq = x * x;
    const Tensor t = tanh((x + x_sq * x * kKappa) * kBeta);
    // d/dx [0.5 x (1 + t)] = 0.5 (1 + t) + 0.5 x (1 - t^2) beta (1 + 3 kappa x^2)
    const Tensor left = (t + 1.0) * 0.5;
    const Tensor right = x * 0.5 * (1.0 - t * t) * kBeta * (x_sq * (3.0 * kKappa) + 1.0);
    return {grads[0] * (left + right)};
  }
};

}  // namespace

Tensor gelu(const Tensor& t, std::string_view approximate) {
  XG_CHECK_ARG(approximate == "none" || approximate == "tanh",
               "gelu: approximate must be 'none' or 'tanh', got '", std::string(approximate), "'");
  if (approximate == "none") return gelu(t);
  ::xg::detail::check_defined(t, "gelu");
  ::xg::detail::check_floating(t, "gelu");  // as PyTorch, which has no Int64 or Bool gelu
  return GeluTanh::apply(t);
}

}  // namespace xg
