#include "sgd.hpp"

#include <stdexcept>

#include "../autograd/creation.hpp"
#include "../autograd/grad_mode.hpp"
#include "../tensor/check.hpp"
#include "../tensor/parallel.hpp"

namespace xg::optim {

void SGDOptions::validate() const {
  internal::check_option(lr_ >= 0, kName, "lr", lr_, "must be >= 0");
  internal::check_option(momentum_ >= 0, kName, "momentum", momentum_, "must be >= 0");
  internal::check_option(weight_decay_ >= 0, kName, "weight_decay", weight_decay_, "must be >= 0");
  internal::check_option(!nesterov_ || (momentum_ > 0 && dampening_ == 0), kName, "nesterov", 1,
                         "nesterov needs momentum > 0 and dampening = 0");
}

SGD::SGD(std::vector<Tensor> params, const SGDOptions& defaults)
    : SGD(std::vector<OptimizerParamGroup>{OptimizerParamGroup(std::move(params))}, defaults) {}

SGD::SGD(std::vector<OptimizerParamGroup> groups, const SGDOptions& defaults)
    : Optimizer(std::move(groups), defaults.clone(), SGDOptions::kName) {}

namespace {

// One fused pass over the elements: no temporaries, nothing allocated.
template <class T>
void sgd_update(T* p, const T* grad, T* buf, bool first, std::int64_t n, const SGDOptions& o) {
  const T lr = static_cast<T>(o.lr()), wd = static_cast<T>(o.weight_decay());
  const T momentum = static_cast<T>(o.momentum());
  const T keep = static_cast<T>(1 - o.dampening());
  // each element on its own: the split across threads changes nothing
  detail::parallel_for(n, detail::kGrainCopy, [&](std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) {
      T g = o.maximize() ? -grad[i] : grad[i];
      if (o.weight_decay() != 0) g = g + wd * p[i];
      if (o.momentum() != 0) {
        buf[i] = first ? g : momentum * buf[i] + keep * g;
        g = o.nesterov() ? g + momentum * buf[i] : buf[i];
      }
      p[i] -= lr * g;
    }
  });
}

}  // namespace

void SGD::step() {
  check_grads();
  NoGradGuard no_grad;
  for (auto& group : param_groups()) {
    const auto& o = static_cast<const SGDOptions&>(group.options());
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      const Tensor grad = p.grad().detach().contiguous();  // .grad set by hand may be a view
      Tensor* buf = nullptr;
      bool first = false;
      if (o.momentum() != 0) {
        auto [it, inserted] = momentum_buffers_.try_emplace(internal::state_key(p));
        if (inserted) it->second = empty(p.shape(), p.dtype());
        buf = &it->second;
        first = inserted;
      }
      xg::detail::bump_version(p);
      if (p.dtype() == kFloat64) {
        sgd_update(p.data_ptr<double>(), grad.data_ptr<double>(),
                   buf ? buf->data_ptr<double>() : nullptr, first, p.numel(), o);
      } else {
        sgd_update(p.data_ptr<float>(), grad.data_ptr<float>(),
                   buf ? buf->data_ptr<float>() : nullptr, first, p.numel(), o);
      }
    }
  }
}

std::map<std::string, Tensor> SGD::param_state(const Tensor& param) const {
  auto it = momentum_buffers_.find(internal::state_key(param));
  if (it == momentum_buffers_.end()) return {};
  return {{"momentum_buffer", it->second}};
}

void SGD::check_param_state(const Tensor& param, const std::map<std::string, Tensor>& state) const {
  for (const auto& [key, t] : state) {
    XG_CHECK_ARG(key == "momentum_buffer", "SGD: load_state_dict: unexpected state '", key, "'");
    XG_CHECK_ARG(t.shape() == param.shape() && t.dtype() == param.dtype(),
                 "SGD: load_state_dict: a momentum buffer of ", shape_to_string(t.shape()), " ",
                 dtype_name(t.dtype()), " does not fit a parameter of ",
                 shape_to_string(param.shape()), " ", dtype_name(param.dtype()));
  }
}

void SGD::set_param_state(const Tensor& param, const std::map<std::string, Tensor>& state) {
  auto it = state.find("momentum_buffer");
  if (it != state.end())
    momentum_buffers_[internal::state_key(param)] = it->second.detach().clone();
}

}  // namespace xg::optim
