#include "optimizer.hpp"

#include <set>
#include <stdexcept>
#include <typeinfo>

#include "../autograd/creation.hpp"
#include "../autograd/grad_mode.hpp"
#include "../tensor/check.hpp"

namespace xg::optim {

OptimizerParamGroup::OptimizerParamGroup(std::vector<Tensor> params,
                                         std::unique_ptr<OptimizerOptions> options)
    : params_(std::move(params)), options_(std::move(options)) {}

OptimizerParamGroup::OptimizerParamGroup(const OptimizerParamGroup& other)
    : params_(other.params_),
      options_(other.options_ ? other.options_->clone() : nullptr),
      initial_lr_(other.initial_lr_),
      has_initial_lr_(other.has_initial_lr_) {}

OptimizerParamGroup& OptimizerParamGroup::operator=(const OptimizerParamGroup& other) {
  if (this != &other) {
    params_ = other.params_;
    options_ = other.options_ ? other.options_->clone() : nullptr;
    initial_lr_ = other.initial_lr_;
    has_initial_lr_ = other.has_initial_lr_;
  }
  return *this;
}

OptimizerOptions& OptimizerParamGroup::options() {
  XG_CHECK_LOGIC(options_, "OptimizerParamGroup: the group has no options yet");
  return *options_;
}

const OptimizerOptions& OptimizerParamGroup::options() const {
  XG_CHECK_LOGIC(options_, "OptimizerParamGroup: the group has no options yet");
  return *options_;
}

namespace internal {
void check_option(bool ok, const char* optimizer, const char* option, double value,
                  const char* requirement) {
  XG_CHECK_ARG(ok, optimizer, ": invalid ", option, " ", xg::detail::general6(value), " (",
               requirement, ")");
}
}  // namespace internal

Optimizer::Optimizer(std::vector<OptimizerParamGroup> groups,
                     std::unique_ptr<OptimizerOptions> defaults, std::string name)
    : defaults_(std::move(defaults)), name_(std::move(name)) {
  defaults_->validate();
  std::size_t count = 0;
  for (const auto& group : groups) count += group.params().size();
  XG_CHECK_ARG(count != 0, name_, ": optimizer got an empty parameter list");
  for (const auto& group : groups) add_param_group(group);
}

void Optimizer::add_param_group(const OptimizerParamGroup& group) {
  std::set<const void*> seen;
  for (const auto& existing : param_groups_) {
    for (const auto& p : existing.params()) seen.insert(internal::state_key(p));
  }
  for (std::size_t i = 0; i < group.params().size(); ++i) {
    const Tensor& p = group.params()[i];
    const auto where = [&] { return name_ + ": parameter " + std::to_string(i) + " of the group"; };
    XG_CHECK_ARG(p.defined(), where(), " is an undefined tensor");
    XG_CHECK_ARG(p.is_floating_point(), where(), " is ", dtype_name(p.dtype()),
                 "; only Float32 and Float64 tensors can be optimized");
    XG_CHECK_ARG(p.is_leaf(), where(), " (", shape_to_string(p.shape()),
                 ") was computed by an op; only leaf tensors can be optimized");
    XG_CHECK_ARG(seen.insert(internal::state_key(p)).second, where(), " (",
                 shape_to_string(p.shape()),
                 ") appears more than once among the optimizer's parameters");
  }
  // Each optimizer reads its groups' options as its own kind: SGD must not read AdamOptions.
  const OptimizerOptions& defaults = *defaults_;
  if (group.has_options()) {
    const OptimizerOptions& given = group.options();
    XG_CHECK_ARG(typeid(given) == typeid(defaults), name_, ": parameter group ",
                 param_groups_.size(), " has another optimizer's options; ", name_, " takes ",
                 name_, "Options");
  }
  OptimizerParamGroup copy(group);
  if (!copy.has_options()) copy.set_options(defaults_->clone());
  copy.options().validate();
  param_groups_.push_back(std::move(copy));
}

void internal::reset_grad(const Tensor& p, bool set_to_none) {
  Tensor& grad = p.mutable_grad();
  if (!grad.defined()) return;
  if (set_to_none) {
    grad = Tensor();
    return;
  }
  NoGradGuard no_grad;
  if (grad.requires_grad()) grad = grad.detach();  // a create_graph gradient leaves its graph
  grad.zero_();
}

void Optimizer::zero_grad(bool set_to_none) {
  for (auto& group : param_groups_) {
    for (auto& p : group.params()) internal::reset_grad(p, set_to_none);
  }
}

void Optimizer::check_grads() const {
  std::size_t index = 0;
  for (const auto& group : param_groups_) {
    for (const auto& p : group.params()) {
      const Tensor grad = p.grad();
      XG_CHECK_ARG(!grad.defined() || (grad.is_same_size(p) && grad.dtype() == p.dtype()), name_,
                   ".step: parameter ", index, " (", shape_to_string(p.shape()), " ",
                   dtype_name(p.dtype()), ") has a gradient of ", shape_to_string(grad.shape()),
                   " ", dtype_name(grad.dtype()), "; nothing was updated");
      ++index;
    }
  }
}

OptimizerStateDict Optimizer::state_dict() const {
  OptimizerStateDict out;
  out.optimizer = name_;
  std::int64_t index = 0;
  for (std::size_t g = 0; g < param_groups_.size(); ++g) {
    const std::string prefix = "param_groups." + std::to_string(g) + ".";
    for (const auto& [option, value] : param_groups_[g].options().to_map()) {
      out.tensors[prefix + option] = scalar_tensor(value, kFloat64);
    }
    std::vector<double> indices;
    for (const auto& p : param_groups_[g].params()) {
      for (auto& [key, t] : param_state(p)) {
        out.tensors["state." + std::to_string(index) + "." + key] = t.detach().clone();
      }
      indices.push_back(static_cast<double>(index++));
    }
    out.tensors[prefix + "params"] = tensor(indices, kInt64);
  }
  return out;
}

void Optimizer::load_state_dict(const OptimizerStateDict& state) {
  XG_CHECK_ARG(state.optimizer == name_, name_, ": load_state_dict got a state saved by ",
               (state.optimizer.empty() ? "an unnamed optimizer" : state.optimizer),
               "; it takes only a state saved by ", name_);
  // Split the named tensors by group and by parameter, checking every name.
  std::vector<std::map<std::string, double>> options(param_groups_.size());
  std::vector<std::vector<std::int64_t>> indices(param_groups_.size());
  std::map<std::int64_t, std::map<std::string, Tensor>> states;
  for (const auto& [key, t] : state.tensors) {
    const auto dot1 = key.find('.');
    const auto dot2 = key.find('.', dot1 + 1);
    XG_CHECK_ARG(dot1 != std::string::npos && dot2 != std::string::npos, name_,
                 ": load_state_dict: unexpected entry '", key, "'");
    const std::string kind = key.substr(0, dot1);
    std::int64_t number = -1;
    try {
      number = std::stoll(key.substr(dot1 + 1, dot2 - dot1 - 1));
    } catch (const std::exception&) {
    }
    const std::string field = key.substr(dot2 + 1);
    if (kind == "param_groups" && number >= 0 &&
        number < static_cast<std::int64_t>(param_groups_.size())) {
      if (field == "params") {
        XG_CHECK_ARG(t.dtype() == kInt64 && t.dim() == 1, name_, ": load_state_dict: '", key,
                     "' must be a 1-D Int64 tensor");
        const Tensor dense = t.contiguous();
        const std::int64_t* p = dense.data_ptr<std::int64_t>();
        indices[static_cast<std::size_t>(number)].assign(p, p + t.numel());
      } else {
        XG_CHECK_ARG(t.numel() == 1, name_, ": load_state_dict: option '", key,
                     "' must hold one number");
        options[static_cast<std::size_t>(number)][field] = t.item();
      }
    } else if (kind == "state" && number >= 0) {
      states[number][field] = t;
    } else {
      xg::detail::fail<std::invalid_argument>(name_, ": load_state_dict: unexpected entry '", key,
                                              "' (the optimizer has ", param_groups_.size(),
                                              " parameter groups)");
    }
  }
  std::vector<Tensor> params;
  std::vector<std::unique_ptr<OptimizerOptions>> new_options;
  for (std::size_t g = 0; g < param_groups_.size(); ++g) {
    const auto& group = param_groups_[g].params();
    XG_CHECK_ARG(indices[g].size() == group.size(), name_, ": load_state_dict: group ", g, " has ",
                 group.size(), " parameters, the state has ", indices[g].size());
    for (std::size_t i = 0; i < group.size(); ++i) {
      XG_CHECK_ARG(indices[g][i] == static_cast<std::int64_t>(params.size()), name_,
                   ": load_state_dict: group ", g, " lists its parameters out of order");
      params.push_back(group[i]);
    }
    auto opts = param_groups_[g].options().clone();
    opts->from_map(options[g]);  // validates; throws before anything changed
    new_options.push_back(std::move(opts));
  }
  for (const auto& [index, s] : states) {
    XG_CHECK_ARG(index < static_cast<std::int64_t>(params.size()), name_,
                 ": load_state_dict: state for parameter ", index, ", but the optimizer has ",
                 params.size());
    check_param_state(params[static_cast<std::size_t>(index)], s);
  }
  // Everything fits: now change.
  clear_state();
  for (std::size_t g = 0; g < param_groups_.size(); ++g) {
    param_groups_[g].set_options(std::move(new_options[g]));
  }
  for (const auto& [index, s] : states) set_param_state(params[static_cast<std::size_t>(index)], s);
}

}  // namespace xg::optim
