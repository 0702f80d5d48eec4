// The optimizer base class, as torch::optim::Optimizer: parameter groups with their own
// options, zero_grad, step, and state_dict / load_state_dict.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "../autograd/tensor.hpp"

namespace xg::optim {

// The options of one parameter group. Each optimizer has its own (SGDOptions, AdamOptions, ...).
class OptimizerOptions {
 public:
  virtual ~OptimizerOptions() = default;
  virtual std::unique_ptr<OptimizerOptions> clone() const = 0;
  virtual double get_lr() const = 0;
  virtual void set_lr(double lr) = 0;
  // Every option as a number (bools as 0 or 1), for state_dict.
  virtual std::map<std::string, double> to_map() const = 0;
  // The inverse of to_map; throws std::invalid_argument, changing nothing, on a missing or
  // invalid option.
  virtual void from_map(const std::map<std::string, double>& values) = 0;
  // Throws std::invalid_argument naming the first invalid option.
  virtual void validate() const = 0;
};

// Parameters that share options. A group made without options takes the optimizer's defaults.
class OptimizerParamGroup {
 public:
  explicit OptimizerParamGroup(std::vector<Tensor> params,
                               std::unique_ptr<OptimizerOptions> options = nullptr);
  OptimizerParamGroup(const OptimizerParamGroup& other);
  OptimizerParamGroup& operator=(const OptimizerParamGroup& other);
  OptimizerParamGroup(OptimizerParamGroup&&) = default;
  OptimizerParamGroup& operator=(OptimizerParamGroup&&) = default;

  std::vector<Tensor>& params() { return params_; }
  const std::vector<Tensor>& params() const { return params_; }
  bool has_options() const { return options_ != nullptr; }
  // The group's options; throws std::logic_error when it has none.
  OptimizerOptions& options();
  const OptimizerOptions& options() const;
  void set_options(std::unique_ptr<OptimizerOptions> options) { options_ = std::move(options); }
  // The group's lr before any scheduler changed it (PyTorch's group["initial_lr"]): set by the
  // first scheduler made on the optimizer, and the base lr of every scheduler made after it.
  // Not part of state_dict.
  bool has_initial_lr() const { return has_initial_lr_; }
  double initial_lr() const { return initial_lr_; }  // 0 when has_initial_lr() is false
  void set_initial_lr(double lr) {
    initial_lr_ = lr;
    has_initial_lr_ = true;
  }

 private:
  std::vector<Tensor> params_;
  std::unique_ptr<OptimizerOptions> options_;
  double initial_lr_ = 0.0;
  bool has_initial_lr_ = false;
};

// Everything an optimizer needs to continue exactly where it stopped: its kind, each group's
// options and parameter indices, and each parameter's state, as named tensors
// ("param_groups.0.lr", "param_groups.0.params", "state.3.exp_avg", "state.3.step", ...).
// Parameters are numbered in group order, as in PyTorch.
struct OptimizerStateDict {
  std::string optimizer;
  std::map<std::string, Tensor> tensors;
};

// The base of SGD, Adam and AdamW. A new optimizer implements step() and the four state
// conversions below.
class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  // One update of every parameter that has a gradient, with grad mode off.
  virtual void step() = 0;
  // Resets every parameter's gradient: to undefined (set_to_none), or to zeros.
  void zero_grad(bool set_to_none = true);

  std::vector<OptimizerParamGroup>& param_groups() { return param_groups_; }
  const std::vector<OptimizerParamGroup>& param_groups() const { return param_groups_; }
  // Checks the group's parameters (floating leaves, none already present) and options.
  void add_param_group(const OptimizerParamGroup& group);
  // The options a group made without its own takes.
  const OptimizerOptions& defaults() const { return *defaults_; }

  OptimizerStateDict state_dict() const;
  // Throws std::invalid_argument and changes nothing when the state does not fit.
  void load_state_dict(const OptimizerStateDict& state);

 protected:
  Optimizer(std::vector<OptimizerParamGroup> groups, std::unique_ptr<OptimizerOptions> defaults,
            std::string name);

  // Per-parameter state as named tensors ("momentum_buffer", "exp_avg", "step", ...), keyed by
  // the parameter's TensorImpl. Optimizers keep their own typed state; these two convert.
  virtual std::map<std::string, Tensor> param_state(const Tensor& param) const = 0;
  // Checks that `state` fits `param` (names, shapes, dtypes); throws std::invalid_argument.
  virtual void check_param_state(const Tensor& param,
                                 const std::map<std::string, Tensor>& state) const = 0;
  virtual void set_param_state(const Tensor& param, const std::map<std::string, Tensor>& state) = 0;
  virtual void clear_state() = 0;

  const std::string& name() const { return name_; }  // "SGD", "Adam", ...: kept in state_dict
  // Throws std::invalid_argument, before any parameter changes, when a gradient's shape or
  // dtype differs from its parameter's. Every step() calls it first.
  void check_grads() const;

 private:
  std::vector<OptimizerParamGroup> param_groups_;
  std::unique_ptr<OptimizerOptions> defaults_;
  std::string name_;
};

namespace internal {
// Resets p's gradient: to undefined, or detached from any graph and zeroed (torch's zero_grad).
void reset_grad(const Tensor& p, bool set_to_none);
// The key optimizers use for a parameter's state.
inline const void* state_key(const Tensor& p) { return p.impl().get(); }
// Throws std::invalid_argument with `option` in the message unless ok.
void check_option(bool ok, const char* optimizer, const char* option, double value,
                  const char* requirement);
}  // namespace internal

}  // namespace xg::optim
