// Adam and AdamW, as torch::optim::Adam and torch::optim::AdamW: one implementation, which
// differs only in how weight decay applies.
#pragma once

#include <tuple>
#include <unordered_map>

#include "optimizer.hpp"
#include "options.hpp"

namespace xg::optim {

namespace internal {

// The options both share; Decoupled selects AdamW's weight decay (and its default 1e-2).
template <bool Decoupled>
class AdamFamilyOptions : public internal::MapOptions<AdamFamilyOptions<Decoupled>> {
  // One row per option: type, name (also its state-dict key), default (see options.hpp).
#define XG_ADAM_OPTIONS(OPTION, PAIR)                  \
  OPTION(double, lr, 1e-3)                             \
  PAIR(betas, beta1, 0.9, beta2, 0.999)                \
  OPTION(double, eps, 1e-8)                            \
  OPTION(double, weight_decay, Decoupled ? 1e-2 : 0.0) \
  OPTION(bool, amsgrad, false)                         \
  OPTION(bool, maximize, false)
  XG_OPTIONS(AdamFamilyOptions, XG_ADAM_OPTIONS)
#undef XG_ADAM_OPTIONS

 public:
  static constexpr const char* kName = Decoupled ? "AdamW" : "Adam";  // in messages and states
  AdamFamilyOptions() = default;
  explicit AdamFamilyOptions(double lr) : lr_(lr) {}
  void validate() const override;
};

// Per parameter p with gradient g, at step t (PyTorch's algorithm):
//   g = -g if maximize
//   Adam:  g += weight_decay * p          AdamW:  p *= 1 - lr * weight_decay
//   m = beta1 * m + (1 - beta1) * g;   v = beta2 * v + (1 - beta2) * g * g
//   v_hat = max(v_hat, v) with amsgrad (the running maximum), else v
//   p -= lr / (1 - beta1^t) * m / (sqrt(v_hat) / sqrt(1 - beta2^t) + eps)
template <bool Decoupled>
class AdamFamily : public Optimizer {
 public:
  using Options = AdamFamilyOptions<Decoupled>;
  AdamFamily(std::vector<OptimizerParamGroup> groups, const Options& defaults);
  void step() override;

 protected:
  std::map<std::string, Tensor> param_state(const Tensor& param) const override;
  void check_param_state(const Tensor& param,
                         const std::map<std::string, Tensor>& state) const override;
  void set_param_state(const Tensor& param, const std::map<std::string, Tensor>& state) override;
  void clear_state() override { state_.clear(); }

 private:
  struct State {
    std::int64_t step = 0;
    Tensor exp_avg, exp_avg_sq, max_exp_avg_sq;
  };
  std::unordered_map<const void*, State> state_;
};

extern template class AdamFamilyOptions<false>;
extern template class AdamFamilyOptions<true>;
extern template class AdamFamily<false>;
extern template class AdamFamily<true>;

}  // namespace internal

using AdamOptions = internal::AdamFamilyOptions<false>;
using AdamWOptions = internal::AdamFamilyOptions<true>;

// Adam: weight decay (0 by default) is added to the gradient, as an L2 penalty.
class Adam : public internal::AdamFamily<false> {
 public:
  Adam(std::vector<Tensor> params, const AdamOptions& defaults = AdamOptions());
  Adam(std::vector<OptimizerParamGroup> groups, const AdamOptions& defaults = AdamOptions());
};

// AdamW: decoupled weight decay (1e-2 by default) shrinks each parameter before the Adam step.
class AdamW : public internal::AdamFamily<true> {
 public:
  AdamW(std::vector<Tensor> params, const AdamWOptions& defaults = AdamWOptions());
  AdamW(std::vector<OptimizerParamGroup> groups, const AdamWOptions& defaults = AdamWOptions());
};

}  // namespace xg::optim
