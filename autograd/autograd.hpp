// Autograd entry points: backward over several roots, grad() for higher-order gradients, and
// anomaly detection.
#pragma once

#include <functional>
#include <optional>
#include <vector>

#include "tensor.hpp"

namespace xg::autograd {

// Accumulates d(tensors)/d(leaf) into every leaf's .grad, as torch.autograd.backward.
// grad_tensors may be empty for scalar tensors; retain_graph defaults to create_graph.
void backward(const std::vector<Tensor>& tensors, const std::vector<Tensor>& grad_tensors = {},
              std::optional<bool> retain_graph = std::nullopt, bool create_graph = false);

// The gradients of outputs with respect to inputs, without touching any .grad, as
// torch.autograd.grad. With create_graph the results are differentiable again.
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs = {},
                         std::optional<bool> retain_graph = std::nullopt, bool create_graph = false,
                         bool allow_unused = false);

// Runs `callback` when the backward pass now running on this thread has finished (after every
// leaf's .grad has been accumulated), as PyTorch's Variable._execution_engine.queue_callback;
// callbacks run in the order queued, and one may queue another. A backward that throws drops
// its callbacks. Outside a backward it throws std::logic_error. (DistributedDataParallel uses
// it to write the averaged gradients back.)
void queue_callback(std::function<void()> callback);

// While one exists on this thread, backward checks every gradient it computes and throws
// std::runtime_error naming the op whose backward produced a NaN or an infinity.
class DetectAnomalyGuard {
 public:
  DetectAnomalyGuard();
  ~DetectAnomalyGuard();
  DetectAnomalyGuard(const DetectAnomalyGuard&) = delete;
  DetectAnomalyGuard& operator=(const DetectAnomalyGuard&) = delete;
  static bool is_enabled();

 private:
  bool previous_;
};

}  // namespace xg::autograd
