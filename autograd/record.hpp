// Internal: how an op records itself. Each op computes its output with a kernel, then calls
// record() with its backward formula, written with differentiable Tensor ops.
#pragma once

#include <array>
#include <initializer_list>
#include <stdexcept>
#include <utility>

#include "../tensor/object_pool.hpp"
#include "grad_mode.hpp"
#include "node.hpp"
#include "tensor_impl.hpp"

namespace xg::autograd {

// Which tensors the backward formula reads.
enum Saves : unsigned { kSaveNone = 0, kSaveInputs = 1, kSaveOutput = 2, kSaveBoth = 3 };

class OpNodeBase;

// What a backward formula sees: its saved inputs and output, and which inputs need a gradient.
class BackwardArgs {
 public:
  explicit BackwardArgs(OpNodeBase& node) : node_(node) {}
  Tensor input(std::size_t i) const;
  Tensor output() const;
  bool needs(std::size_t i) const;
  const InputMeta& input_meta(std::size_t i) const;  // input i's shape and dtype, always kept

 private:
  OpNodeBase& node_;
};

class OpNodeBase : public Node {
 public:
  using Node::Node;
  void release_saved() override {
    for (auto& s : saved_inputs) s.release();
    saved_output.release();
  }
  detail::SmallVector<SavedTensor, 2> saved_inputs;
  SavedTensor saved_output;
};

inline Tensor BackwardArgs::input(std::size_t i) const {
  return node_.saved_inputs.at(i).unpack(node_);
}
inline Tensor BackwardArgs::output() const { return node_.saved_output.unpack(node_); }
inline bool BackwardArgs::needs(std::size_t i) const { return node_.next_edges[i].node != nullptr; }
inline const InputMeta& BackwardArgs::input_meta(std::size_t i) const {
  return node_.input_meta[i];
}

// A node whose backward is the lambda F: (const Tensor& grad, const BackwardArgs&) -> grads.
// The lambda captures metadata only (shapes, dims, scalars); tensors come through the args.
template <class F>
class OpNode final : public OpNodeBase {
 public:
  OpNode(const char* op, F backward) : OpNodeBase(op), backward_(std::move(backward)) {}
  GradientList apply(Tensor grad) override { return backward_(grad, BackwardArgs(*this)); }
  bool add_grad_into(Tensor& buffer, const Tensor& grad) override {
    if constexpr (requires(F & f, Tensor & b, const Tensor& g) { f.add_into(b, g); }) {
      return backward_.add_into(buffer, grad);
    } else {
      return false;
    }
  }

 private:
  F backward_;
};

using TensorRefs = std::initializer_list<std::reference_wrapper<const Tensor>>;

// Regenerates the history of a view whose storage an in-place op changed since its grad_fn
// was set: the view of its base's current history, as PyTorch does.
void refresh_view(const std::shared_ptr<detail::TensorImpl>& impl);
inline void refresh_if_stale(const std::shared_ptr<detail::TensorImpl>& impl) {
  if (impl->view_base && impl->view_version != impl->array.version()) refresh_view(impl);
}

// True when ops on these inputs are to be recorded: grad mode is on and one requires grad.
template <class Inputs>
bool should_record(const Inputs& inputs) {
  if (!GradMode::is_enabled()) return false;
  bool any = false;
  for (const Tensor& t : inputs) {
    refresh_if_stale(t.impl());
    any = any || t.impl()->requires_grad;
  }
  return any;
}
inline bool should_record(TensorRefs inputs) { return should_record<TensorRefs>(inputs); }

// Makes `result` the output of a new node for op, with an edge per input.
template <class Inputs, class F>
Tensor attach(Tensor result, const char* op, const Inputs& inputs, Saves saves, F&& backward) {
  auto node = detail::make_pooled<OpNode<std::decay_t<F>>>(op, std::forward<F>(backward));
  node->next_edges.reserve(inputs.size());
  node->input_meta.reserve(inputs.size());
  for (const Tensor& t : inputs) {
    node->next_edges.push_back(gradient_edge(t));
    node->input_meta.push_back(InputMeta(t));
    if (saves & kSaveInputs) node->saved_inputs.push_back(SavedTensor::input(t));
  }
  if (saves & kSaveOutput) node->saved_output = SavedTensor::output(result);
  result.impl()->grad_fn = std::move(node);
  result.impl()->requires_grad = true;
  return result;
}

// Wraps `out` in a Tensor and, when grad mode is on and an input requires grad, records the op
// with its backward formula.
template <class F>
Tensor record(const char* op, Array out, TensorRefs inputs, Saves saves, F&& backward) {
  Tensor result = detail::make_tensor(std::move(out));
  if (!should_record(inputs)) return result;
  return attach(std::move(result), op, inputs, saves, std::forward<F>(backward));
}

}  // namespace xg::autograd
