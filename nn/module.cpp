#include "module.hpp"

#include <unordered_set>

#include "../autograd/grad_mode.hpp"
#include "../optim/optimizer.hpp"
#include "../tensor/check.hpp"

namespace xg::nn {

namespace {
void check_name(const std::string& owner, const std::string& name, const char* what) {
  XG_CHECK_ARG(!name.empty() && name.find('.') == std::string::npos, owner, ": ", what, " name '",
               name, "' must be non-empty and contain no '.'");
}
}  // namespace

// Parameters, buffers and submodules share one namespace, as attributes do in PyTorch: a
// clash would make one of them vanish from state_dict.
void Module::check_unused(const std::string& name) const {
  const char* kind = nullptr;
  for (const auto& p : parameters_) kind = p.name == name ? "parameter" : kind;
  for (const auto& b : buffers_) kind = b.name == name ? "buffer" : kind;
  for (const auto& [n, m] : children_) kind = n == name ? "submodule" : kind;
  XG_CHECK_ARG(!kind, name_, ": the name '", name, "' is taken by a ", kind);
}

Tensor Module::forward(const Tensor&) {
  detail::fail<std::logic_error>(name_, ": forward(const Tensor&) is not defined for this module");
}

Tensor Module::register_parameter(const std::string& name, Tensor t, bool requires_grad) {
  check_name(name_, name, "parameter");
  check_unused(name);
  XG_CHECK_ARG(t.defined(), name_, ": parameter '", name, "' is an undefined tensor");
  if (!t.is_leaf()) t = t.detach();  // a parameter is always a leaf, as torch::nn::Parameter
  if (requires_grad) t.requires_grad_(true);
  parameters_.push_back({name, t});
  return parameters_.back().tensor;
}

Tensor Module::register_buffer(const std::string& name, Tensor t) {
  check_name(name_, name, "buffer");
  check_unused(name);
  buffers_.push_back({name, t.defined() ? t.detach() : t});
  return buffers_.back().tensor;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> module) {
  check_name(name_, name, "submodule");
  XG_CHECK_ARG(module, name_, ": submodule '", name, "' is null");
  check_unused(name);
  // A cycle would make every recursive walk (parameters, train, to, save) run forever: look for
  // this module among the new child's descendants, without recursion.
  std::vector<std::pair<std::string, const Module*>> pending{{name, module.get()}};
  std::unordered_set<const Module*> seen;  // a module shared by several parents is walked once
  while (!pending.empty()) {
    auto [path, m] = std::move(pending.back());
    pending.pop_back();
    if (!seen.insert(m).second) continue;
    XG_CHECK_ARG(m != this, name_, ": registering submodule '", name,
                 "' would make a cycle: this module would be its own descendant at '", path, "'");
    for (const auto& [child_name, child] : m->children_) {
      pending.emplace_back(path + "." + child_name, child.get());
    }
  }
  children_.emplace_back(name, std::move(module));
}

void Module::collect(const std::string& prefix, bool recurse, bool want_buffers,
                     std::vector<NamedTensor>& out) const {
  for (const auto& item : want_buffers ? buffers_ : parameters_) {
    out.push_back({prefix + item.name, item.tensor});
  }
  if (!recurse) return;
  for (const auto& [name, child] : children_) {
    child->collect(prefix + name + ".", true, want_buffers, out);
  }
}

std::vector<NamedTensor> Module::named_parameters(bool recurse) const {
  std::vector<NamedTensor> out;
  collect("", recurse, false, out);
  return out;
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& item : named_parameters(recurse)) out.push_back(item.tensor);
  return out;
}

std::vector<NamedTensor> Module::named_buffers(bool recurse) const {
  std::vector<NamedTensor> out;
  collect("", recurse, true, out);
  return out;
}

std::vector<Tensor> Module::buffers(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& item : named_buffers(recurse)) out.push_back(item.tensor);
  return out;
}

std::vector<std::pair<std::string, std::shared_ptr<Module>>> Module::named_children() const {
  return children_;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

void Module::zero_grad(bool set_to_none) {
  for (auto& p : parameters()) optim::internal::reset_grad(p, set_to_none);
}

void Module::to(Dtype dtype) {
  XG_CHECK_ARG(is_floating(dtype), name_, ".to: modules convert to Float32 or Float64 only, got ",
               dtype_name(dtype));
  NoGradGuard no_grad;
  for (auto& p : parameters()) {
    if (p.dtype() == dtype) continue;
    p.set_data(p.to(dtype));
    p.mutable_grad() = Tensor();
  }
  for (auto& b : buffers()) {
    if (b.defined() && b.is_floating_point() && b.dtype() != dtype) b.set_data(b.to(dtype));
  }
}

}  // namespace xg::nn
