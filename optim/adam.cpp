#include "adam.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <type_traits>

#include "../autograd/creation.hpp"
#include "../autograd/grad_mode.hpp"
#include "../tensor/check.hpp"
#include "../tensor/parallel.hpp"
#include "../tensor/simd.hpp"

namespace xg::optim {
namespace internal {

template <bool D>
void AdamFamilyOptions<D>::validate() const {
  const auto [beta1, beta2] = betas_;
  check_option(lr_ >= 0, kName, "lr", lr_, "must be >= 0");
  check_option(eps_ >= 0, kName, "eps", eps_, "must be >= 0");
  check_option(beta1 >= 0 && beta1 < 1, kName, "beta1 (betas[0])", beta1, "must be in [0, 1)");
  check_option(beta2 >= 0 && beta2 < 1, kName, "beta2 (betas[1])", beta2, "must be in [0, 1)");
  check_option(weight_decay_ >= 0, kName, "weight_decay", weight_decay_, "must be >= 0");
}

template <bool D>
AdamFamily<D>::AdamFamily(std::vector<OptimizerParamGroup> groups, const Options& defaults)
    : Optimizer(std::move(groups), defaults.clone(), Options::kName) {}

namespace {

// One fused pass over the elements, in the parameter's precision, in the vector kernels of
// this CPU (tensor/simd.hpp); nothing allocated. Each element on its own: the split across
// threads changes nothing.
template <bool Decoupled, class T>
void adam_update(T* p, const T* grad, T* m, T* v, T* v_max, std::int64_t step, std::int64_t n,
                 const AdamFamilyOptions<Decoupled>& o) {
  const auto [beta1, beta2] = o.betas();
  const double bias_correction1 = 1 - std::pow(beta1, static_cast<double>(step));
  const double bias_correction2 = 1 - std::pow(beta2, static_cast<double>(step));
  detail::simd::AdamStep<T> s{};
  s.param = p;
  s.grad = grad;
  s.exp_avg = m;
  s.exp_avg_sq = v;
  s.max_exp_avg_sq = v_max;
  s.beta1 = static_cast<T>(beta1);
  s.beta2 = static_cast<T>(beta2);
  s.one_minus_beta1 = static_cast<T>(1 - beta1);
  s.one_minus_beta2 = static_cast<T>(1 - beta2);
  s.weight_decay = static_cast<T>(o.weight_decay());
  s.decay = static_cast<T>(1 - o.lr() * o.weight_decay());
  s.eps = static_cast<T>(o.eps());
  s.bias_correction2_sqrt = static_cast<T>(std::sqrt(bias_correction2));
  s.step_size = static_cast<T>(o.lr() / bias_correction1);
  s.decoupled = Decoupled;
  s.l2 = !Decoupled && o.weight_decay() != 0;
  s.amsgrad = o.amsgrad();
  s.maximize = o.maximize();
  const auto kernel = detail::simd::kernels<T>().adam;
  detail::parallel_for(n, detail::kGrainMath,
                       [&](std::int64_t begin, std::int64_t end) { kernel(s, begin, end); });
}

template <bool D>
void update_param(const Tensor& p, const Tensor& grad, const Tensor& m, const Tensor& v,
                  const Tensor& v_max, std::int64_t step, const AdamFamilyOptions<D>& o) {
  if (p.dtype() == kFloat64) {
    adam_update<D>(p.data_ptr<double>(), grad.data_ptr<double>(), m.data_ptr<double>(),
                   v.data_ptr<double>(), o.amsgrad() ? v_max.data_ptr<double>() : nullptr, step,
                   p.numel(), o);
  } else {
    adam_update<D>(p.data_ptr<float>(), grad.data_ptr<float>(), m.data_ptr<float>(),
                   v.data_ptr<float>(), o.amsgrad() ? v_max.data_ptr<float>() : nullptr, step,
                   p.numel(), o);
  }
}

}  // namespace

template <bool D>
void AdamFamily<D>::step() {
  check_grads();
  NoGradGuard no_grad;
  for (auto& group : param_groups()) {
    const auto& o = static_cast<const Options&>(group.options());
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      const Tensor grad = p.grad().detach().contiguous();  // .grad set by hand may be a view
      auto [it, inserted] = state_.try_emplace(state_key(p));
      State& s = it->second;
      if (inserted) {
        s.exp_avg = zeros(p.shape(), p.dtype());
        s.exp_avg_sq = zeros(p.shape(), p.dtype());
      }
      if (o.amsgrad() && !s.max_exp_avg_sq.defined()) {
        s.max_exp_avg_sq = zeros(p.shape(), p.dtype());
      }
      ++s.step;
      update_param<D>(p, grad, s.exp_avg, s.exp_avg_sq, s.max_exp_avg_sq, s.step, o);
      xg::detail::bump_version(p);
    }
  }
}

template <bool D>
std::map<std::string, Tensor> AdamFamily<D>::param_state(const Tensor& param) const {
  auto it = state_.find(state_key(param));
  if (it == state_.end()) return {};
  const State& s = it->second;
  std::map<std::string, Tensor> out{{"step", scalar_tensor(s.step, kInt64)},
                                    {"exp_avg", s.exp_avg},
                                    {"exp_avg_sq", s.exp_avg_sq}};
  if (s.max_exp_avg_sq.defined()) out["max_exp_avg_sq"] = s.max_exp_avg_sq;
  return out;
}

template <bool D>
void AdamFamily<D>::check_param_state(const Tensor& param,
                                      const std::map<std::string, Tensor>& state) const {
  const char* name = Options::kName;
  for (const char* key : {"step", "exp_avg", "exp_avg_sq"}) {
    XG_CHECK_ARG(state.count(key), name, ": load_state_dict: a parameter's state has no '", key,
                 "'");
  }
  for (const auto& [key, t] : state) {
    if (key == "step") {
      XG_CHECK_ARG(t.numel() == 1 && t.dtype() == kInt64 && t.template item<std::int64_t>() >= 0,
                   name, ": load_state_dict: 'step' must be one Int64 >= 0");
    } else if (key == "exp_avg" || key == "exp_avg_sq" || key == "max_exp_avg_sq") {
      XG_CHECK_ARG(t.shape() == param.shape() && t.dtype() == param.dtype(), name,
                   ": load_state_dict: '", key, "' of ", shape_to_string(t.shape()), " ",
                   dtype_name(t.dtype()), " does not fit a parameter of ",
                   shape_to_string(param.shape()), " ", dtype_name(param.dtype()));
    } else {
      xg::detail::fail<std::invalid_argument>(name, ": load_state_dict: unexpected state '", key,
                                              "'");
    }
  }
}

template <bool D>
void AdamFamily<D>::set_param_state(const Tensor& param,
                                    const std::map<std::string, Tensor>& state) {
  State s;
  s.step = state.at("step").template item<std::int64_t>();
  s.exp_avg = state.at("exp_avg").detach().clone();
  s.exp_avg_sq = state.at("exp_avg_sq").detach().clone();
  auto it = state.find("max_exp_avg_sq");
  if (it != state.end()) s.max_exp_avg_sq = it->second.detach().clone();
  state_[state_key(param)] = std::move(s);
}

template class AdamFamilyOptions<false>;
template class AdamFamilyOptions<true>;
template class AdamFamily<false>;
template class AdamFamily<true>;

}  // namespace internal

Adam::Adam(std::vector<Tensor> params, const AdamOptions& defaults)
    : Adam(std::vector<OptimizerParamGroup>{OptimizerParamGroup(std::move(params))}, defaults) {}
Adam::Adam(std::vector<OptimizerParamGroup> groups, const AdamOptions& defaults)
    : AdamFamily(std::move(groups), defaults) {}

AdamW::AdamW(std::vector<Tensor> params, const AdamWOptions& defaults)
    : AdamW(std::vector<OptimizerParamGroup>{OptimizerParamGroup(std::move(params))}, defaults) {}
AdamW::AdamW(std::vector<OptimizerParamGroup> groups, const AdamWOptions& defaults)
    : AdamFamily(std::move(groups), defaults) {}

}  // namespace xg::optim
