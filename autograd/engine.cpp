// The backward engine: orders the graph with an iterative depth-first search, then runs each
// node once all gradients for it have arrived, summing them in per-node buffers.
#include <cmath>
#include <cstdint>

#include "../tensor/check.hpp"
#include "../tensor/kernels.hpp"
#include "autograd.hpp"
#include "creation.hpp"
#include "grad_mode.hpp"
#include "node.hpp"
#include "ops.hpp"
#include "tensor_impl.hpp"

namespace xg::autograd {

namespace {

thread_local bool anomaly_enabled = false;

// Node -> a position: open addressing with linear probing, so a pass over a 10,000-node graph
// makes a handful of allocations, not one per node as std::unordered_map would.
class NodeIndex {
 public:
  NodeIndex() : slots_(64) {}
  // Adds node with `value` unless it is there; says whether it was added.
  bool insert(const Node* node, std::size_t value) {
    if (2 * (count_ + 1) > slots_.size()) grow();
    Slot& s = probe(node);
    if (s.node) return false;
    s = {node, value};
    ++count_;
    return true;
  }
  // The node's value, or null if it is not there.
  std::size_t* find(const Node* node) {
    Slot& s = probe(node);
    return s.node ? &s.value : nullptr;
  }

 private:
  struct Slot {
    const Node* node = nullptr;
    std::size_t value = 0;
  };
  Slot& probe(const Node* node) {
    const std::size_t mask = slots_.size() - 1;
    // Fibonacci hashing of the address: nodes are allocated at similar strides.
    std::size_t i = (reinterpret_cast<std::uintptr_t>(node) * 0x9E3779B97F4A7C15ull) >> 20 & mask;
    while (slots_[i].node && slots_[i].node != node) i = (i + 1) & mask;
    return slots_[i];
  }
  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    for (const Slot& s : old) {
      if (s.node) probe(s.node) = s;
    }
  }
  std::vector<Slot> slots_;  // a power of two, at most half full
  std::size_t count_ = 0;
};

// The state of one backward call, PyTorch's GraphTask: the nodes it runs, in order, and for each
// its gradient buffer and flags. Nodes hold only the graph, so passes over graphs that share
// nodes (the accumulator of a parameter used by both) can run on several threads at once.
class GraphTask {
 public:
  struct Slot {
    Tensor grad_buffer;  // the sum of the gradients that reached the node so far
    Tensor captured;     // grad(): the gradient of an input
    bool needed = false;
    bool capture = false;
  };

  // Orders the nodes reachable from the roots, each after every node that sends it a gradient
  // (reverse post-order of a depth-first search, done with an explicit stack).
  explicit GraphTask(const std::vector<Node*>& roots) {
    std::vector<Node*> post_order;
    std::vector<std::pair<Node*, std::size_t>> stack;  // node, next edge to look at
    for (Node* root : roots) {
      if (!position_.insert(root, 0)) continue;
      stack.emplace_back(root, 0);
      while (!stack.empty()) {
        auto& [node, next] = stack.back();
        if (next < node->next_edges.size()) {
          Node* child = node->next_edges[next++].node.get();
          if (child && position_.insert(child, 0)) stack.emplace_back(child, 0);
        } else {
          post_order.push_back(node);
          stack.pop_back();
        }
      }
    }
    order_.assign(post_order.rbegin(), post_order.rend());
    for (std::size_t i = 0; i < order_.size(); ++i) *position_.find(order_[i]) = i;
    slots_.resize(order_.size());
  }

  const std::vector<Node*>& order() const { return order_; }
  Slot& slot(std::size_t position) { return slots_[position]; }
  Slot& slot(const Node* node) { return slots_[*position_.find(node)]; }
  // Null for a node outside the graph (an input of grad() that the outputs do not use).
  Slot* find(const Node* node) {
    const std::size_t* position = position_.find(node);
    return position ? &slots_[*position] : nullptr;
  }

 private:
  std::vector<Node*> order_;
  NodeIndex position_;
  std::vector<Slot> slots_;
};

bool has_non_finite(const Tensor& t) {
  if (!t.is_floating_point()) return false;
  const Tensor x = t.detach().contiguous();
  if (x.dtype() == kFloat64) {
    const double* p = x.data_ptr<double>();
    for (std::int64_t i = 0; i < x.numel(); ++i) {
      if (!std::isfinite(p[i])) return true;
    }
  } else {
    const float* p = x.data_ptr<float>();
    for (std::int64_t i = 0; i < x.numel(); ++i) {
      if (!std::isfinite(p[i])) return true;
    }
  }
  return false;
}

// Whether t has this shape, without building t's shape vector (it runs for every edge).
bool has_shape(const Tensor& t, const Shape& shape) {
  if (t.dim() != static_cast<std::int64_t>(shape.size())) return false;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (t.size(static_cast<std::int64_t>(d)) != shape[d]) return false;
  }
  return true;
}

// Brings a gradient to its input's shape (summing broadcast dims) and dtype, or throws.
Tensor fit_gradient(Tensor grad, const InputMeta& meta, const Node& node, std::size_t index) {
  if (!has_shape(grad, meta.shape)) {
    bool reducible = grad.dim() >= static_cast<std::int64_t>(meta.shape.size());
    if (reducible) {
      try {
        reducible = broadcast_shapes(meta.shape, grad.shape(), "backward") == grad.shape();
      } catch (const std::invalid_argument&) {
        reducible = false;
      }
    }
    XG_CHECK_STATE(reducible, "backward: ", node.name(), " returned a gradient of shape ",
                   shape_to_string(grad.shape()), " for input ", index, ", which has shape ",
                   shape_to_string(meta.shape), " (", node.describe_forward(), ")");
    grad = detail::sum_to(grad, meta.shape);
  }
  if (grad.dtype() != meta.dtype) grad = grad.to(meta.dtype);
  return grad;
}

// The hooks on the gradient of the tensor whose node this is: a leaf's own hooks, or the
// pre-hooks of an op's node (register_hook and retain_grad on a non-leaf).
Tensor run_hooks(Node& node, Tensor grad) {
  if (node.is_accumulator())
    return static_cast<AccumulateGrad&>(node).run_leaf_hooks(std::move(grad));
  for (const auto& hook : node.pre_hooks) grad = apply_hook(hook, std::move(grad));
  return grad;
}

// buffer + g, the sum of two gradients of one node. In place into buffer when nothing else can
// see it, as PyTorch's InputBuffer does: outside grad mode (create_graph records the sum), with
// the buffer's handle and storage held by the slot alone, contiguous, and of g's shape and
// dtype. The same additions either way, so the same bits.
// Whether the engine may write into a gradient buffer: outside grad mode (create_graph records
// the sums), with the buffer's handle and storage held by the engine's slot alone.
bool writable(const Tensor& buffer) {
  return !GradMode::is_enabled() && buffer.impl().use_count() == 1 &&
         detail::array_of(buffer).storage().use_count() == 1;
}

Tensor accumulate(Tensor buffer, const Tensor& g) {
  if (writable(buffer) && detail::array_of(buffer).is_contiguous() && buffer.dtype() == g.dtype() &&
      buffer.shape() == g.shape()) {
    kernels::binary_inplace(kernels::BinaryOp::Add, detail::mutable_array_of(buffer),
                            detail::array_of(g));
    return buffer;
  }
  return buffer + g;
}

// A view node's gradient added straight into the part of its input's gradient buffer it covers
// (Node::add_grad_into), when that buffer exists and only the engine holds it: the pieces of a
// split then fill one buffer instead of each making a zero-filled tensor of the input's size.
// Under anomaly mode every gradient goes through apply(), to be checked as it is made.
bool add_into_input(GraphTask& task, Node& node, const Tensor& grad, bool anomaly_enabled) {
  if (anomaly_enabled || node.next_edges.size() != 1) return false;
  Node* next = node.next_edges[0].node.get();
  if (!next) return false;
  GraphTask::Slot& slot = task.slot(next);
  if (!slot.needed || !slot.grad_buffer.defined() || !writable(slot.grad_buffer) ||
      node.input_meta[0].dtype != grad.dtype()) {
    return false;
  }
  return node.add_grad_into(slot.grad_buffer, grad);
}

// The callbacks of the backward pass running on this thread (null outside one).
thread_local std::vector<std::function<void()>>* pending_callbacks = nullptr;

// The shared pass. With `inputs` empty, gradients accumulate into leaves' .grad; otherwise the
// gradients reaching each input are returned and no .grad changes.
std::vector<Tensor> run_backward(const std::vector<Tensor>& roots,
                                 const std::vector<Tensor>& root_grads, bool retain_graph,
                                 bool create_graph, const std::vector<Tensor>& inputs,
                                 bool allow_unused) {
  XG_CHECK_ARG(root_grads.empty() || root_grads.size() == roots.size(), "backward: got ",
               root_grads.size(), " gradients for ", roots.size(), " tensors");
  std::vector<Edge> root_edges;
  std::vector<Tensor> seeds;
  for (std::size_t i = 0; i < roots.size(); ++i) {
    const Tensor& root = roots[i];
    detail::check_defined(root, "backward");
    Edge edge = gradient_edge(root);
    XG_CHECK_STATE(edge.node, "backward: element ", i, " of the tensors (", detail::describe(root),
                   ") does not require grad and has no grad_fn; did you forget "
                   "requires_grad_() on a leaf, or compute it under NoGradGuard?");
    Tensor seed = root_grads.empty() ? Tensor() : root_grads[i];
    if (!seed.defined()) {
      XG_CHECK_STATE(
          root.numel() == 1, "backward: grad can be implicitly created only for scalar outputs; ",
          detail::describe(root), " has several elements, so pass a gradient of its shape");
      seed = ones_like(root);
    } else {
      XG_CHECK_ARG(seed.shape() == root.shape(), "backward: the gradient ", detail::describe(seed),
                   " does not match the shape of the tensor ", detail::describe(root));
    }
    root_edges.push_back(std::move(edge));
    seeds.push_back(std::move(seed));
  }
  std::vector<Edge> input_edges;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    detail::check_defined(inputs[i], "grad");
    XG_CHECK_STATE(inputs[i].requires_grad(), "grad: input ", i, " (", detail::describe(inputs[i]),
                   ") does not require grad");
    input_edges.push_back(gradient_edge(inputs[i]));
  }
  const bool capture_mode = !inputs.empty();

  std::vector<Node*> root_nodes;
  for (const auto& e : root_edges) root_nodes.push_back(e.node.get());
  GraphTask task(root_nodes);
  const std::vector<Node*>& order = task.order();

  for (const auto& e : input_edges) {
    if (GraphTask::Slot* s = task.find(e.node.get())) s->capture = true;
  }
  for (std::size_t k = order.size(); k-- > 0;) {  // every child before its parents
    GraphTask::Slot& s = task.slot(k);
    s.needed = !capture_mode || s.capture;
    for (const auto& e : order[k]->next_edges) {
      if (e.node && task.slot(e.node.get()).needed) s.needed = true;
    }
  }

  GradMode::set_enabled(create_graph);
  struct RestoreGradMode {
    bool previous = true;
    ~RestoreGradMode() { GradMode::set_enabled(previous); }
  } restore;
  // This pass's callbacks; a backward run inside a hook or a callback has its own.
  std::vector<std::function<void()>> callbacks;
  struct RestoreCallbacks {
    std::vector<std::function<void()>>* previous;
    ~RestoreCallbacks() { pending_callbacks = previous; }
  } restore_callbacks{pending_callbacks};
  pending_callbacks = &callbacks;

  for (std::size_t i = 0; i < root_nodes.size(); ++i) {
    Tensor& buffer = task.slot(root_nodes[i]).grad_buffer;
    buffer = buffer.defined() ? buffer + seeds[i] : seeds[i];
  }
  for (std::size_t k = 0; k < order.size(); ++k) {
    Node* node = order[k];
    GraphTask::Slot& slot = task.slot(k);
    if (!slot.needed || !slot.grad_buffer.defined()) continue;
    Tensor grad = run_hooks(*node, std::move(slot.grad_buffer));
    slot.grad_buffer = Tensor();
    const bool is_leaf = node->is_accumulator();
    if (slot.capture) {
      slot.captured = grad;
      if (is_leaf) continue;
    }
    if (capture_mode && is_leaf) continue;  // grad() never touches .grad
    if (add_into_input(task, *node, grad, anomaly_enabled)) {
      if (!retain_graph) node->release_saved();
      continue;
    }
    GradientList grads = node->apply(std::move(grad));
    if (!retain_graph) node->release_saved();
    if (is_leaf) continue;
    XG_CHECK_STATE(grads.size() == node->next_edges.size(), "backward: ", node->name(),
                   " returned ", grads.size(), " gradients, expected ", node->next_edges.size(),
                   " (one per input)");
    for (std::size_t i = 0; i < grads.size(); ++i) {
      Node* next = node->next_edges[i].node.get();
      if (!next || !grads[i].defined()) continue;
      GraphTask::Slot& next_slot = task.slot(next);
      if (!next_slot.needed) continue;
      Tensor g = fit_gradient(std::move(grads[i]), node->input_meta[i], *node, i);
      XG_CHECK_STATE(!(anomaly_enabled && has_non_finite(g)), "DetectAnomaly: ", node->name(),
                     " produced a NaN or an infinity in the gradient of its input ", i,
                     "; the forward op was ", node->describe_forward());
      next_slot.grad_buffer = next_slot.grad_buffer.defined()
                                  ? accumulate(std::move(next_slot.grad_buffer), g)
                                  : std::move(g);
    }
  }

  for (std::size_t i = 0; i < callbacks.size(); ++i) {
    std::function<void()> callback = std::move(callbacks[i]);  // may queue more
    callback();
  }

  std::vector<Tensor> results;
  for (std::size_t i = 0; i < input_edges.size(); ++i) {
    Node* n = input_edges[i].node.get();
    const GraphTask::Slot* s = task.find(n);
    Tensor g = s ? s->captured : Tensor();
    XG_CHECK_STATE(g.defined() || allow_unused, "grad: input ", i, " (",
                   detail::describe(inputs[i]),
                   ") was not used in the graph of the outputs; pass "
                   "allow_unused=true to get an undefined gradient for it");
    if (g.defined()) g = fit_gradient(std::move(g), InputMeta(inputs[i]), *n, i);
    results.push_back(create_graph || !g.defined() ? g : g.detach());
  }
  return results;
}

}  // namespace

void backward(const std::vector<Tensor>& tensors, const std::vector<Tensor>& grad_tensors,
              std::optional<bool> retain_graph, bool create_graph) {
  run_backward(tensors, grad_tensors, retain_graph.value_or(create_graph), create_graph, {}, false);
}

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, std::optional<bool> retain_graph,
                         bool create_graph, bool allow_unused) {
  XG_CHECK_ARG(!inputs.empty(), "grad: expected at least one input");
  return run_backward(outputs, grad_outputs, retain_graph.value_or(create_graph), create_graph,
                      inputs, allow_unused);
}

void queue_callback(std::function<void()> callback) {
  XG_CHECK_LOGIC(pending_callbacks, "queue_callback: no backward pass is running on this thread");
  pending_callbacks->push_back(std::move(callback));
}

DetectAnomalyGuard::DetectAnomalyGuard() : previous_(anomaly_enabled) { anomaly_enabled = true; }
DetectAnomalyGuard::~DetectAnomalyGuard() { anomaly_enabled = previous_; }
bool DetectAnomalyGuard::is_enabled() { return anomaly_enabled; }

}  // namespace xg::autograd
