// Graph nodes: what an op records so that backward can run it in reverse.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "../tensor/array.hpp"
#include "../tensor/small_vector.hpp"
#include "tensor.hpp"

namespace xg::detail {
struct TensorImpl;
}  // namespace xg::detail

namespace xg::autograd {

class Node;

// Where the gradient of one input goes: the node that produced the input, or the input's
// gradient accumulator when it is a leaf; null when the input needs no gradient.
struct Edge {
  std::shared_ptr<Node> node;
};

// What backward must know of an input to hand it a gradient of the right shape and dtype.
struct InputMeta {
  InputMeta() = default;
  explicit InputMeta(const Tensor& t);  // t's shape and dtype, read without allocating
  Shape shape;
  Dtype dtype = kFloat32;
};

// A tensor kept for backward. An input is kept as its handle (it owns nothing of this node); the
// op's own output is kept as its data only, so that no node owns its own output. Unpacking
// checks that no in-place op has changed the data since.
class SavedTensor {
 public:
  SavedTensor() = default;
  static SavedTensor input(const Tensor& t);
  static SavedTensor output(const Tensor& t);

  // `owner` is the node that saved it (the grad_fn of an unpacked output).
  Tensor unpack(Node& owner) const;
  void release();
  bool defined() const { return impl_ || output_; }

 private:
  std::shared_ptr<detail::TensorImpl> impl_;  // inputs
  // An input's data when it was saved: set_data on a leaf swaps it, which unpack refuses.
  std::weak_ptr<detail::StorageImpl> data_at_save_;
  // Outputs: the view of the data, without the tensor (behind a pointer from the object pool:
  // most nodes save no output, and a node is smaller without an inline Array).
  std::shared_ptr<const Array> output_;
  std::uint64_t version_ = 0;
  bool released_ = false;
};

using GradHook = std::function<Tensor(const Tensor&)>;
// Calls a gradient hook: a defined result replaces grad, and must keep its shape and dtype
// (PyTorch's "hook has changed the size of value"); throws std::runtime_error otherwise.
Tensor apply_hook(const GradHook& hook, Tensor grad);

// The gradients a node returns, one per input; inline for up to two inputs.
using GradientList = detail::SmallVector<Tensor, 2>;

// One recorded op. Each has one output; apply() maps the gradient of that output to the
// gradients of the inputs (undefined where an input needs none).
class Node : public std::enable_shared_from_this<Node> {
 public:
  // `op` is the forward op's name ("mul", "log_softmax"); it outlives the node (a literal).
  explicit Node(const char* op) : op_(op) {}
  virtual ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Takes the gradient by value so that a gradient nobody else holds can be kept, not copied.
  virtual GradientList apply(Tensor grad) = 0;
  // Frees what backward kept; a later apply() then throws, naming retain_graph.
  virtual void release_saved() {}
  // For a view of part of its input (narrow, select, slice, diagonal): adds grad into the part
  // of `buffer`, the input's gradient so far, that the view covers, as apply() followed by the
  // sum would, but without a zero-filled tensor of the input's size; returns false, changing
  // nothing, where it cannot. The engine calls it outside grad mode on a buffer only it holds.
  virtual bool add_grad_into(Tensor& /*buffer*/, const Tensor& /*grad*/) { return false; }

  // "MulBackward" for op "mul", "LogSoftmaxBackward" for "log_softmax", as PyTorch names them.
  virtual std::string name() const;
  const char* op() const { return op_; }
  // A leaf's AccumulateGrad (the engine asks for every node, so a flag, not a dynamic_cast).
  bool is_accumulator() const { return is_accumulator_; }
  // "mul on [3] Float32, [3] Float32", for error messages.
  std::string describe_forward() const;

  // One of each per input, inline for up to two inputs.
  detail::SmallVector<Edge, 2> next_edges;
  detail::SmallVector<InputMeta, 2> input_meta;
  std::vector<GradHook> pre_hooks;  // hooks on the output's gradient (register_hook on a non-leaf)
  // A backward pass keeps its own state (the engine's GraphTask); a node holds only the graph.

 protected:
  bool is_accumulator_ = false;

 private:
  const char* op_;
};

// The node at a leaf: adds the incoming gradient into the leaf's .grad.
class AccumulateGrad final : public Node {
 public:
  explicit AccumulateGrad(detail::TensorImpl* leaf);
  GradientList apply(Tensor grad) override;
  std::string name() const override { return "AccumulateGrad"; }
  // The leaf's register_hook functions, in order; a defined result replaces the gradient.
  Tensor run_leaf_hooks(Tensor grad) const;

 private:
  detail::TensorImpl* leaf_;  // owns this node; every edge to it keeps the leaf alive
  // Graphs on several threads may share the leaf: their passes add into .grad one at a time.
  std::mutex mutex_;
};

// The node an in-place op on a view gives its base (PyTorch's CopySlices): the base's gradient
// passes through except on the view's elements, where `fn` (the in-place op's node, whose
// input 0 is the view's old value) maps it to the gradient of the view's old value and of the
// op's other inputs. Edges: the base's old history, then fn's inputs after the first (all of
// fn's inputs when !self_is_input, as for fill_ and copy_).
class CopySlices final : public Node {
 public:
  CopySlices(const Tensor& base, const Tensor& view, std::shared_ptr<Node> fn, bool self_is_input);
  GradientList apply(Tensor grad) override;
  void release_saved() override { fn_->release_saved(); }
  std::string name() const override { return "CopySlices"; }

 private:
  Shape base_shape_;
  Array::Sizes sizes_;
  Array::Strides strides_;
  std::int64_t offset_;  // relative to the base's first element
  std::shared_ptr<Node> fn_;
  bool self_is_input_;
};

// Adds grad into a .grad slot (a leaf's, or a non-leaf's that retains its grad): the first
// gradient is kept (copied when someone else holds it), later ones are added in place, or out
// of place under create_graph so the sum stays differentiable.
void accumulate_grad(Tensor& slot, Tensor grad);

// Edge to the node that gradients of t flow into (null if t needs no gradient).
Edge gradient_edge(const Tensor& t);

// Destroys a node without recursion, however long the chain behind it.
void release_node(std::shared_ptr<Node>&& node);

}  // namespace xg::autograd
