#include "module.hpp"

#include <algorithm>
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
  auto existing = std::find_if(parameters_.begin(), parameters_.end(),
                               [&](const NamedTensor& p) { return p.name == name; });
  if (existing == parameters_.end()) check_unused(name);
  XG_CHECK_ARG(t.defined(), name_, ": parameter '", name, "' is an undefined tensor");
  if (!t.is_leaf()) t = t.detach();  // a parameter is always a leaf, as torch::nn::Parameter
  if (requires_grad) t.requires_grad_(true);
  if (existing != parameters_.end()) {  // replaced in place, as PyTorch (weight tying)
    existing->tensor = t;
    on_parameter_replaced(name, t);
    return t;
  }
  parameters_.push_back({name, t});
  return parameters_.back().tensor;
}

Tensor Module::register_buffer(const std::string& name, Tensor t) {
  check_name(name_, name, "buffer");
  check_unused(name);
  buffers_.push_back({name, t.defined() ? t.detach() : t});
  return buffers_.back().tensor;
}

// A cycle would make every recursive walk (parameters, train, to, save) run forever: look for
// this module among the new child's descendants, without recursion.
void Module::check_no_cycle(const std::string& name, const Module* module) const {
  std::vector<std::pair<std::string, const Module*>> pending{{name, module}};
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
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> module) {
  check_name(name_, name, "submodule");
  XG_CHECK_ARG(module, name_, ": submodule '", name, "' is null");
  check_unused(name);
  check_no_cycle(name, module.get());
  children_.emplace_back(name, std::move(module));
}

void Module::replace_child(const std::string& name, std::shared_ptr<Module> module) {
  XG_CHECK_ARG(module, name_, ": submodule '", name, "' is null");
  check_no_cycle(name, module.get());
  for (auto& [n, child] : children_) {
    if (n == name) child = std::move(module);
  }
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

std::vector<NamedTensor> Module::named(bool recurse, bool remove_duplicate,
                                       bool want_buffers) const {
  std::vector<NamedTensor> all;
  collect("", recurse, want_buffers, all);
  if (!remove_duplicate) return all;
  std::vector<NamedTensor> out;
  std::unordered_set<const void*> seen;  // tied tensors are one impl
  for (auto& item : all) {
    if (!item.tensor.defined() || seen.insert(item.tensor.impl().get()).second) {
      out.push_back(std::move(item));
    }
  }
  return out;
}

std::vector<NamedTensor> Module::named_parameters(bool recurse, bool remove_duplicate) const {
  return named(recurse, remove_duplicate, false);
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& item : named_parameters(recurse)) out.push_back(item.tensor);
  return out;
}

std::vector<NamedTensor> Module::named_buffers(bool recurse, bool remove_duplicate) const {
  return named(recurse, remove_duplicate, true);
}

std::vector<Tensor> Module::buffers(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& item : named_buffers(recurse)) out.push_back(item.tensor);
  return out;
}

std::shared_ptr<Module> Module::self() {
  if (auto owned = weak_from_this().lock()) return owned;
  return std::shared_ptr<Module>(std::shared_ptr<Module>(), this);  // not owning: on the stack
}

std::vector<std::pair<std::string, std::shared_ptr<Module>>> Module::named_modules(
    const std::string& prefix, bool include_self) {
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> out, pending;
  std::unordered_set<const Module*> seen{this};
  if (include_self) out.emplace_back(prefix, self());
  // Depth first in registration order: children pushed in reverse so the first pops first.
  const auto push_children = [&](const std::string& path, const Module& m) {
    for (auto it = m.children_.rbegin(); it != m.children_.rend(); ++it) {
      pending.emplace_back(path.empty() ? it->first : path + "." + it->first, it->second);
    }
  };
  push_children(prefix, *this);
  while (!pending.empty()) {
    auto item = std::move(pending.back());
    pending.pop_back();
    if (!seen.insert(item.second.get()).second) continue;
    push_children(item.first, *item.second);
    out.push_back(std::move(item));
  }
  return out;
}

std::vector<std::shared_ptr<Module>> Module::modules(bool include_self) {
  std::vector<std::shared_ptr<Module>> out;
  for (auto& item : named_modules("", include_self)) out.push_back(std::move(item.second));
  return out;
}

Module& Module::apply(const std::function<void(Module&)>& fn) {
  for (auto& [name, child] : children_) child->apply(fn);
  fn(*this);
  return *this;
}

std::shared_ptr<Module> Module::get_submodule(const std::string& target) {
  std::shared_ptr<Module> m = self();
  std::size_t start = 0;
  while (!target.empty() && start <= target.size()) {
    const std::size_t dot = std::min(target.find('.', start), target.size());
    const std::string part = target.substr(start, dot - start);
    auto it = std::find_if(m->children_.begin(), m->children_.end(),
                           [&](const auto& child) { return child.first == part; });
    XG_CHECK_ARG(it != m->children_.end(), name_, ".get_submodule: no submodule '", target,
                 "': ", m->name_, " has no submodule '", part, "'");
    m = it->second;
    start = dot + 1;
  }
  return m;
}

Tensor Module::get_parameter(const std::string& target) {
  const std::size_t dot = target.rfind('.');
  const std::string param = dot == std::string::npos ? target : target.substr(dot + 1);
  const auto m = get_submodule(dot == std::string::npos ? "" : target.substr(0, dot));
  for (const auto& p : m->parameters_) {
    if (p.name == param) return p.tensor;
  }
  detail::fail<std::invalid_argument>(name_, ".get_parameter: no parameter '", target,
                                      "': ", m->name_, " has no parameter '", param, "'");
}

std::vector<std::pair<std::string, std::shared_ptr<Module>>> Module::named_children() const {
  return children_;
}

Module& Module::requires_grad_(bool requires_grad) {
  for (auto& p : parameters()) p.requires_grad_(requires_grad);
  return *this;
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
