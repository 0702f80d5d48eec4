// xg::nn::Module, the base of every model, as torch::nn::Module: named parameters, buffers and
// submodules, train/eval, zero_grad and dtype conversion.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "../autograd/tensor.hpp"

namespace xg::nn {

// A name and a tensor, as an item of torch::OrderedDict.
struct NamedTensor {
  std::string name;
  Tensor tensor;
  const std::string& key() const { return name; }
  const Tensor& value() const { return tensor; }
};

// The base of every model and layer. `name` appears in error messages.
class Module : public std::enable_shared_from_this<Module> {
 public:
  explicit Module(std::string name = "Module") : name_(std::move(name)) {}
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // The model's computation; Sequential and operator() call it. Modules with another signature
  // define their own forward and leave this one throwing.
  virtual Tensor forward(const Tensor& input);
  Tensor operator()(const Tensor& input) { return forward(input); }

  // Registers t as a parameter (a leaf that requires grad unless told otherwise) and returns a
  // handle on the same tensor, to keep as a member. On the name of a parameter already
  // registered, it replaces that parameter's tensor in place (same position), as PyTorch's
  // register_parameter and attribute assignment do: passing another module's parameter ties
  // them (`lm_head->register_parameter("weight", wte->weight)`), and the built-in layers point
  // their members (Linear::weight, ...) at the new tensor. A custom module keeping a member
  // assigns the returned handle itself, or overrides on_parameter_replaced.
  Tensor register_parameter(const std::string& name, Tensor t, bool requires_grad = true);
  // Registers t as a buffer: state that is saved and converted but not trained.
  Tensor register_buffer(const std::string& name, Tensor t);
  // Registers a child: its parameters and buffers join this module's under "name.".
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    add_child(name, module);
    return module;
  }

  // Registration order; recursive ones list this module's own first, then each child's with
  // the child's name as a prefix ("fc1.weight"). A tensor registered under several names (tied
  // weights) or reached through a shared submodule is listed once, under its first name,
  // unless remove_duplicate is false (as PyTorch's remove_duplicate; state_dict lists all).
  std::vector<Tensor> parameters(bool recurse = true) const;
  std::vector<NamedTensor> named_parameters(bool recurse = true,
                                            bool remove_duplicate = true) const;
  std::vector<Tensor> buffers(bool recurse = true) const;
  std::vector<NamedTensor> named_buffers(bool recurse = true, bool remove_duplicate = true) const;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_children() const;
  // Every module of the tree, depth first, this one first (named "" or `prefix`), children with
  // dotted names ("encoder.0"); a module reachable along several paths is listed once, under
  // its first path. This module's own entry does not own it when it is not held by a
  // shared_ptr (a module on the stack).
  std::vector<std::shared_ptr<Module>> modules(bool include_self = true);
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_modules(
      const std::string& prefix = "", bool include_self = true);
  // Calls fn on every child's tree (children first), then on this module, as PyTorch's
  // Module.apply; returns this module.
  Module& apply(const std::function<void(Module&)>& fn);
  // The submodule or parameter at a dotted path ("encoder.0.weight"; "" is this module), as
  // PyTorch's get_submodule and get_parameter; std::invalid_argument names the missing part.
  std::shared_ptr<Module> get_submodule(const std::string& target);
  Tensor get_parameter(const std::string& target);

  void train(bool on = true);  // this module and every descendant
  // Sets requires_grad on every parameter of this module and its descendants, as PyTorch's
  // Module.requires_grad_: requires_grad_(false) freezes them (backward leaves their grad
  // undefined, and the optimizers skip a parameter without a gradient). A parameter tied to a
  // module outside this one is the same tensor, so it is frozen there too. Returns this module.
  Module& requires_grad_(bool requires_grad = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  void zero_grad(bool set_to_none = true);
  // Converts every parameter and buffer in place (handles held elsewhere see the change).
  void to(Dtype dtype);

  const std::string& name() const { return name_; }  // as given to the constructor

 protected:
  // Called when register_parameter replaced the tensor of parameter `name` by t: a layer that
  // keeps the parameter in a member points the member at t here.
  virtual void on_parameter_replaced(const std::string& /*name*/, const Tensor& /*t*/) {}
  // Replaces the child registered as `name` in place (ModuleDict's assignment).
  void replace_child(const std::string& name, std::shared_ptr<Module> module);

 private:
  void add_child(const std::string& name, std::shared_ptr<Module> module);
  void check_unused(const std::string& name) const;
  void check_no_cycle(const std::string& name, const Module* module) const;
  std::shared_ptr<Module> self();
  void collect(const std::string& prefix, bool recurse, bool want_buffers,
               std::vector<NamedTensor>& out) const;
  std::vector<NamedTensor> named(bool recurse, bool remove_duplicate, bool want_buffers) const;

  std::string name_;
  bool training_ = true;
  std::vector<NamedTensor> parameters_;
  std::vector<NamedTensor> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
};

}  // namespace xg::nn
