// Stochastic gradient descent with momentum, dampening, weight decay and Nesterov, as
// torch::optim::SGD.
#pragma once

#include <unordered_map>

#include "optimizer.hpp"

namespace xg::optim {

// SGD's options, as torch::optim::SGDOptions: lr is required; the setters chain.
class SGDOptions : public OptimizerOptions {
 public:
  explicit SGDOptions(double lr) : lr_(lr) {}
  SGDOptions& lr(double v) {
    lr_ = v;
    return *this;
  }
  SGDOptions& momentum(double v) {
    momentum_ = v;
    return *this;
  }
  SGDOptions& dampening(double v) {
    dampening_ = v;
    return *this;
  }
  SGDOptions& weight_decay(double v) {
    weight_decay_ = v;
    return *this;
  }
  SGDOptions& nesterov(bool v) {
    nesterov_ = v;
    return *this;
  }
  SGDOptions& maximize(bool v) {
    maximize_ = v;
    return *this;
  }
  double lr() const { return lr_; }
  double momentum() const { return momentum_; }
  double dampening() const { return dampening_; }
  double weight_decay() const { return weight_decay_; }
  bool nesterov() const { return nesterov_; }
  bool maximize() const { return maximize_; }

  std::unique_ptr<OptimizerOptions> clone() const override;
  double get_lr() const override { return lr_; }
  void set_lr(double lr) override { lr_ = lr; }
  std::map<std::string, double> to_map() const override;
  void from_map(const std::map<std::string, double>& values) override;
  void validate() const override;

 private:
  double lr_;
  double momentum_ = 0;
  double dampening_ = 0;
  double weight_decay_ = 0;
  bool nesterov_ = false;
  bool maximize_ = false;
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
