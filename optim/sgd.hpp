// Stochastic gradient descent with momentum, dampening, weight decay and Nesterov, as
// torch::optim::SGD.
#pragma once

#include <unordered_map>

#include "optimizer.hpp"
#include "options.hpp"

namespace xg::optim {

// SGD's options, as torch::optim::SGDOptions: lr is required; the setters chain.
class SGDOptions : public internal::MapOptions<SGDOptions> {
  // One row per option: type, name (also its state-dict key), default (see options.hpp).
#define XG_SGD_OPTIONS(OPTION, PAIR) \
  OPTION(double, lr, 0)              \
  OPTION(double, momentum, 0)        \
  OPTION(double, dampening, 0)       \
  OPTION(double, weight_decay, 0)    \
  OPTION(bool, nesterov, false)      \
  OPTION(bool, maximize, false)
  XG_OPTIONS(SGDOptions, XG_SGD_OPTIONS)
#undef XG_SGD_OPTIONS

 public:
  static constexpr const char* kName = "SGD";  // the optimizer's name, in messages and states
  explicit SGDOptions(double lr) : lr_(lr) {}
  void validate() const override;
};

// For each parameter p with gradient g (PyTorch's algorithm):
//   g = -g if maximize;  g += weight_decay * p
//   with momentum: b = g at the first step, else b = momentum * b + (1 - dampening) * g;
//                  g = g + momentum * b if nesterov, else b
//   p -= lr * g
class SGD : public Optimizer {
 public:
  SGD(std::vector<Tensor> params, const SGDOptions& defaults);
  SGD(std::vector<OptimizerParamGroup> groups, const SGDOptions& defaults);
  void step() override;

 protected:
  std::map<std::string, Tensor> param_state(const Tensor& param) const override;
  void check_param_state(const Tensor& param,
                         const std::map<std::string, Tensor>& state) const override;
  void set_param_state(const Tensor& param, const std::map<std::string, Tensor>& state) override;
  void clear_state() override { momentum_buffers_.clear(); }

 private:
  std::unordered_map<const void*, Tensor> momentum_buffers_;
};

}  // namespace xg::optim
