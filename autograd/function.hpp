// Custom differentiable functions, as torch::autograd::Function: a user writes forward and
// backward, and apply() records them as one node of the graph.
#pragma once

#include <cxxabi.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <string>
#include <typeinfo>
#include <variant>
#include <vector>

#include "../tensor/check.hpp"
#include "grad_mode.hpp"
#include "node.hpp"
#include "tensor.hpp"

namespace xg::autograd {

// A value kept in AutogradContext::saved_data, read back with the to*() of its kind (like
// c10::IValue).
class SavedValue {
 public:
  SavedValue() = default;
  SavedValue(double v) : value_(v) {}                    // NOLINT: implicit, as IValue
  SavedValue(int v) : value_(std::int64_t{v}) {}         // NOLINT
  SavedValue(std::int64_t v) : value_(v) {}              // NOLINT
  SavedValue(bool v) : value_(v) {}                      // NOLINT
  SavedValue(std::string v) : value_(std::move(v)) {}    // NOLINT
  SavedValue(const char* v) : value_(std::string(v)) {}  // NOLINT
  SavedValue(Shape v) : value_(std::move(v)) {}          // NOLINT

  double toDouble() const { return get<double>("a double"); }
  std::int64_t toInt() const { return get<std::int64_t>("an int"); }
  bool toBool() const { return get<bool>("a bool"); }
  const std::string& toStringRef() const { return get<std::string>("a string"); }
  const Shape& toIntVector() const { return get<Shape>("an int vector"); }

 private:
  template <class T>
  const T& get(const char* kind) const {
    const T* v = std::get_if<T>(&value_);
    XG_CHECK_ARG(v, "saved_data: the value is not ", kind);
    return *v;
  }
  std::variant<std::monostate, double, std::int64_t, bool, std::string, Shape> value_;
};

// What forward hands to backward.
class AutogradContext {
 public:
  // Tensors backward will need; an in-place change to one of them before backward is an error.
  void save_for_backward(std::vector<Tensor> tensors) { to_save_ = std::move(tensors); }
  // The tensors save_for_backward kept; throws when one was changed in place since.
  std::vector<Tensor> get_saved_variables();
  // Whether input i (counting tensor inputs only) needs a gradient.
  bool needs_input_grad(std::size_t i) const;
  std::map<std::string, SavedValue> saved_data;  // non-tensor values for backward

 private:
  template <class>
  friend class CppNode;
  template <class>
  friend struct Function;
  std::vector<Tensor> to_save_;     // during forward
  std::vector<SavedTensor> saved_;  // after forward
  Node* node_ = nullptr;
};

namespace detail {
std::string demangle(const char* name);
// Makes node the grad_fn of t.
void set_grad_fn(const Tensor& t, std::shared_ptr<Node> node);
// Turns the tensors forward saved into SavedTensors; one that shares `output`'s data is kept as
// data only, so the node does not own its own output.
std::vector<SavedTensor> save_tensors(const std::vector<Tensor>& to_save, const Tensor& output);
// Checks the backward's gradients: one per tensor input, or one per forward argument.
GradientList select_gradients(const Node& node, std::vector<Tensor> grads,
                              const std::vector<bool>& is_tensor_arg);
}  // namespace detail

// The node Function<Derived>::apply records: its apply() calls Derived::backward.
template <class Derived>
class CppNode final : public Node {
 public:
  CppNode() : Node(op_name()) {}
  GradientList apply(Tensor grad) override {
    XG_CHECK_STATE(!released_, "backward: ", name(),
                   " was already run and its saved tensors freed; pass "
                   "retain_graph=true to the first backward to run it twice");
    std::vector<Tensor> grads = Derived::backward(&ctx, {std::move(grad)});
    return detail::select_gradients(*this, std::move(grads), is_tensor_arg);
  }
  void release_saved() override {
    for (auto& s : ctx.saved_) s.release();
    released_ = true;
  }
  std::string name() const override { return op_name() + std::string("Backward"); }

  static const char* op_name() {
    static const std::string name = detail::demangle(typeid(Derived).name());
    return name.c_str();
  }

  AutogradContext ctx;
  std::vector<bool> is_tensor_arg;

 private:
  bool released_ = false;
};

// Derive as `struct MyFn : xg::autograd::Function<MyFn>` with
//   static Tensor forward(AutogradContext* ctx, ...);
//   static std::vector<Tensor> backward(AutogradContext* ctx, std::vector<Tensor> grad_outputs);
// and call MyFn::apply(...). forward runs with grad mode off.
template <class Derived>
struct Function {
  template <class... Args>
  static Tensor apply(Args&&... args) {
    auto node = std::make_shared<CppNode<Derived>>();
    node->ctx.node_ = node.get();
    std::vector<Tensor> inputs;
    (collect(inputs, node->is_tensor_arg, args), ...);
    Tensor out;
    {
      NoGradGuard no_grad;
      out = Derived::forward(&node->ctx, std::forward<Args>(args)...);
    }
    bool any = false;
    for (const auto& t : inputs) any = any || t.requires_grad();
    if (!GradMode::is_enabled() || !any || !out.defined()) return out;
    // A new handle on the same data: the output's node is this one, whatever forward returned.
    Tensor result = out.detach();
    for (const auto& t : inputs) {
      node->next_edges.push_back(gradient_edge(t));
      node->input_meta.push_back(InputMeta(t));
    }
    node->ctx.saved_ = detail::save_tensors(node->ctx.to_save_, result);
    node->ctx.to_save_.clear();
    detail::set_grad_fn(result, std::move(node));
    return result;
  }

 private:
  template <class T>
  static void collect(std::vector<Tensor>& inputs, std::vector<bool>& is_tensor, const T& arg) {
    if constexpr (std::is_same_v<std::decay_t<T>, Tensor>) {
      inputs.push_back(arg);
      is_tensor.push_back(true);
    } else {
      is_tensor.push_back(false);
    }
  }
};

}  // namespace xg::autograd
